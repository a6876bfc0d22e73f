package report

import (
	"slices"
	"strconv"
	"strings"
	"time"

	oscal "github.com/defenseunicorns/go-oscal/src/types/oscal-1-1-3"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// oscalBuilder gathers the parts of the one OSCAL result a run makes.
type oscalBuilder struct {
	run      *Run
	toolName string
	toolUUID string
	origins  *[]oscal.Origin
	byTarget map[string]TargetResult

	items    []oscal.InventoryItem
	itemUUID map[string]string // target, kind, id → the item's UUID

	observations []oscal.Observation
	risks        []oscal.Risk
	byCheck      map[string]*checkAcc
	checkIDs     []string        // in the order first seen
	controls     map[string]bool // NIST SP 800-53 controls the checks map to
	unaudited    []string        // targets that could not be collected
}

// checkAcc is what the findings of one check add up to.
type checkAcc struct {
	first        findings.Finding
	observations []oscal.RelatedObservation
	risks        []oscal.AssociatedRisk
	counts       findings.Counts
	waivedError  bool
}

func newOSCALBuilder(r *Run) *oscalBuilder {
	toolName := orDefault(r.Tool.Name, "hvaudit")
	toolUUID := stableUUID("component/tool", toolName)
	b := &oscalBuilder{
		run: r, toolName: toolName, toolUUID: toolUUID,
		origins:  &[]oscal.Origin{{Actors: []oscal.OriginActor{{Type: "tool", ActorUuid: toolUUID}}}},
		byTarget: map[string]TargetResult{}, itemUUID: map[string]string{},
		byCheck: map[string]*checkAcc{}, controls: map[string]bool{},
	}
	for _, t := range r.Targets {
		b.byTarget[t.Name] = t
	}
	return b
}

// item returns the UUID of the inventory item for an object, adding the
// item the first time the object is met (so items keep finding order).
func (b *oscalBuilder) item(target, kind, id, name string) string {
	key := target + "\x00" + kind + "\x00" + id
	if u, ok := b.itemUUID[key]; ok {
		return u
	}
	u := stableUUID("inventory-item", target, kind, id)
	b.itemUUID[key] = u
	desc := strings.TrimSpace(kind + " " + orDefault(name, id))
	if kind != "target" {
		desc += " on target " + target
	}
	item := oscal.InventoryItem{
		UUID:        u,
		Description: clean(desc, false),
		Props:       propsOf("target", target, "object-kind", kind, "object-id", id, "object-name", name),
	}
	if t, ok := b.byTarget[target]; ok && kind == "target" {
		item.Props = propsOf("target", target, "object-kind", kind, "object-id", id, "object-name", name,
			"platform", t.Platform, "product", t.Product, "version", t.Version, "build", t.Build, "uri", t.URI)
	}
	b.items = append(b.items, item)
	return u
}

// unauditedTargets adds an observation for each target that could not be
// collected, so the document says what was not assessed.
func (b *oscalBuilder) unauditedTargets() {
	r := b.run
	for _, t := range r.Targets {
		if t.Status == TargetOK {
			continue
		}
		b.unaudited = append(b.unaudited, t.Name)
		subject := b.item(t.Name, "target", t.Name, t.Name)
		b.observations = append(b.observations, oscal.Observation{
			UUID:        stableUUID("observation/target-error", t.Name),
			Title:       clean("Target "+t.Name+" could not be audited", false),
			Description: clean(orDefault(t.Error, "no error message recorded"), true),
			Methods:     []string{"TEST"},
			Origins:     b.origins,
			Subjects:    &[]oscal.SubjectReference{{SubjectUuid: subject, Type: "inventory-item", Title: clean(t.Name, false)}},
			Props:       propsOf("target", t.Name, "result", "error"),
			Collected:   oscalTime(r.Run.Started, r.Run.Finished),
		})
	}
}

// observe adds a finding's observation, counts it for its check, notes
// the controls the check maps to, and adds the risk its waiver accepts.
func (b *oscalBuilder) observe(f findings.Finding) {
	r := b.run
	subject := b.item(f.Target, f.Object.Kind, f.Object.ID, f.Object.Name)
	obsUUID := stableUUID("observation", f.Target, f.CheckID, f.Object.ID)
	var collected time.Time
	if t, ok := b.byTarget[f.Target]; ok && t.CollectedAt != nil {
		collected = *t.CollectedAt
	}
	obs := oscal.Observation{
		UUID:        obsUUID,
		Title:       clean(f.CheckID+" on "+objectLabel(f.Object), false),
		Description: clean(orDefault(f.Message, f.Title), true),
		Methods:     []string{"TEST"},
		Origins:     b.origins,
		Subjects:    &[]oscal.SubjectReference{{SubjectUuid: subject, Type: "inventory-item", Title: objectLabel(f.Object)}},
		Props:       findingProps(f),
		Collected:   oscalTime(collected, r.Run.Started, r.Run.Finished),
		Remarks:     observationRemarks(f),
	}
	if len(f.Evidence) > 0 {
		ev := make([]oscal.RelevantEvidence, 0, len(f.Evidence))
		for _, e := range f.Evidence {
			ev = append(ev, oscal.RelevantEvidence{
				Description: clean(e.Field+" = "+observedText(e.Observed), true),
				Props:       propsOf("field", e.Field, "source", e.Source),
			})
		}
		obs.RelevantEvidence = &ev
	}
	b.observations = append(b.observations, obs)

	acc := b.byCheck[f.CheckID]
	if acc == nil {
		acc = &checkAcc{first: f}
		b.byCheck[f.CheckID] = acc
		b.checkIDs = append(b.checkIDs, f.CheckID)
	}
	acc.observations = append(acc.observations, oscal.RelatedObservation{ObservationUuid: obsUUID})
	acc.count(f)
	for _, c := range f.Refs.NIST80053 {
		if id, ok := oscalControlID(c); ok {
			b.controls[id] = true
		}
	}
	if f.Waiver != nil && (f.Status == findings.StatusWaived || f.Waiver.Expired) {
		risk := waiverRisk(f, obsUUID)
		b.risks = append(b.risks, risk)
		acc.risks = append(acc.risks, oscal.AssociatedRisk{RiskUuid: risk.UUID})
	}
}

// count tallies a finding's status for its check.
func (acc *checkAcc) count(f findings.Finding) {
	if !acc.counts.Add(f.Status) {
		acc.counts.Error++ // an unknown status is not a pass
	}
	if f.Status == findings.StatusWaived && f.ObservedStatus == findings.StatusError {
		acc.waivedError = true
	}
}

// findings is one OSCAL finding per check that applied to something, by
// check id.
func (b *oscalBuilder) findings() []oscal.Finding {
	ids := slices.Sorted(slices.Values(b.checkIDs))
	var out []oscal.Finding
	for _, id := range ids {
		acc := b.byCheck[id]
		status, ok := checkStatus(acc.counts, acc.waivedError)
		if !ok {
			continue
		}
		f := acc.first
		finding := oscal.Finding{
			UUID:        stableUUID("finding", id),
			Title:       clean(id+": "+orDefault(f.Title, id), false),
			Description: clean(checkSummary(acc.counts), false),
			Target: oscal.FindingTarget{
				Type:     "objective-id",
				TargetId: oscalToken(id),
				Title:    clean(f.Title, false),
				Status:   status,
				Props:    propsOf(refPairs(f.Refs)...),
			},
			Origins:             b.origins,
			RelatedObservations: &acc.observations,
			Props:               propsOf("check-id", id, "severity", string(f.Severity), "area", f.Area),
		}
		if f.Expected != "" {
			finding.Target.Description = clean("Expected: "+f.Expected, true)
		}
		if len(acc.risks) > 0 {
			finding.RelatedRisks = &acc.risks
		}
		out = append(out, finding)
	}
	return out
}

// reviewedControls lists the NIST SP 800-53 controls the checks map to, or
// all controls when no check maps to one.
func (b *oscalBuilder) reviewedControls() oscal.AssessedControls {
	if len(b.controls) == 0 {
		return oscal.AssessedControls{IncludeAll: &oscal.IncludeAll{}}
	}
	ids := make([]string, 0, len(b.controls))
	for id := range b.controls {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, compareControlIDs)
	sel := make([]oscal.AssessedControlsSelectControlById, len(ids))
	for i, id := range ids {
		sel[i] = oscal.AssessedControlsSelectControlById{ControlId: id}
	}
	return oscal.AssessedControls{Description: "NIST SP 800-53 controls the baseline's checks map to.", IncludeControls: &sel}
}

// result is the run's one OSCAL result, ending at end.
func (b *oscalBuilder) result(end time.Time) oscal.Result {
	r := b.run
	result := oscal.Result{
		UUID:        stableUUID("result", orDefault(r.Run.ID, end.Format(time.RFC3339Nano))),
		Title:       clean(strings.TrimSpace(b.toolName+" audit "+r.Run.ID), false),
		Description: clean(resultDescription(r), false),
		Start:       oscalTime(r.Run.Started, r.Run.Finished),
		End:         &end,
		ReviewedControls: oscal.ReviewedControls{
			ControlSelections: []oscal.AssessedControls{b.reviewedControls()},
		},
		LocalDefinitions: &oscal.LocalDefinitions{
			Components: &[]oscal.SystemComponent{{
				UUID:        b.toolUUID,
				Type:        "software",
				Title:       clean(strings.TrimSpace(b.toolName+" "+r.Tool.Version), false),
				Description: "The hypervisor hardening audit tool that made the observations.",
				Status:      oscal.SystemComponentStatus{State: "operational"},
				Props:       propsOf("version", r.Tool.Version),
			}},
		},
		Props: propsOf(
			"run-id", r.Run.ID,
			"complete", strconv.FormatBool(r.Summary.Complete),
			"score", scoreProp(r.Summary.Score),
			"score-without-waivers", scoreProp(r.Summary.ScoreWithoutWaivers),
		),
	}
	if len(b.items) > 0 {
		result.LocalDefinitions.InventoryItems = &b.items
	}
	if len(b.observations) > 0 {
		result.Observations = &b.observations
	}
	if fs := b.findings(); len(fs) > 0 {
		result.Findings = &fs
	}
	if len(b.risks) > 0 {
		result.Risks = &b.risks
	}
	if len(b.unaudited) > 0 {
		result.Remarks = clean("Incomplete: these targets could not be audited and have no findings: "+strings.Join(b.unaudited, ", ")+".", true)
	}
	return result
}
