package checks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Engine evaluates a compiled, tailored baseline over inventories. It is safe
// for concurrent use.
type Engine struct {
	adv    *Advisories
	now    func() time.Time
	params *paramsVal
	// byScope holds the enabled checks per scope, in baseline order.
	byScope map[string][]*engineCheck
}

type engineCheck struct {
	Check
	expected string
}

// NewEngine binds a loaded (and possibly tailored) baseline to advisory
// data and a clock. adv nil loads the embedded advisory data; now nil is
// time.Now. Later tailoring of b does not affect the engine.
func NewEngine(b *Baseline, adv *Advisories, now func() time.Time) (*Engine, error) {
	if b == nil || b.envs == nil {
		return nil, errors.New("checks: NewEngine needs a baseline from LoadBaseline")
	}
	if adv == nil {
		var err error
		if adv, err = LoadAdvisories(""); err != nil {
			return nil, err
		}
	}
	if now == nil {
		now = time.Now
	}
	params := make(map[string]any, len(b.params))
	for k, v := range b.params {
		params[k] = v
	}
	e := &Engine{adv: adv, now: now, params: newParamsVal(b.paramsS, params), byScope: map[string][]*engineCheck{}}
	for _, c := range b.checks {
		if !c.Enabled {
			continue
		}
		if c.prog == nil {
			return nil, fmt.Errorf("%s: check %s is not compiled", at(c.File, c.Line), c.ID)
		}
		ec := &engineCheck{Check: *c, expected: renderExpected(c.Expected, params)}
		e.byScope[c.Scope] = append(e.byScope[c.Scope], ec)
	}
	return e, nil
}

// Advisories returns the advisory data the engine assesses patches with.
func (e *Engine) Advisories() *Advisories { return e.adv }

// evalCtx is what every object of one Evaluate call shares.
type evalCtx struct {
	target    string
	inv       *inventory.Inventory
	platform  string
	now       time.Time
	targetVal ref.Val
	advVal    ref.Val
	nowVal    ref.Val
	gaps      *inventory.GapIndex
	// advSource names the advisory data, the origin of patch.* and
	// advisories.* evidence.
	advSource string
	// cctx bounds every evaluation of the call.
	cctx context.Context
}

// job is one object and the checks of its scope.
type job struct {
	kind   string
	obj    reflect.Value // the struct
	id     string
	name   string
	host   string // ObjectRef.Host
	patch  *inventory.PatchLevel
	checks []*engineCheck
	// patchGap explains the absent patch.missing* fields of an assessed
	// release line without advisory coverage.
	patchGap string
}

// Evaluate runs every enabled check for the inventory's platform over its
// objects and returns the findings sorted (SortFindings). Objects are
// evaluated in parallel, bounded by GOMAXPROCS.
func (e *Engine) Evaluate(targetName string, inv *inventory.Inventory) []findings.Finding {
	return e.EvaluateContext(context.Background(), targetName, inv)
}

// EvaluateContext is Evaluate under a context: once ctx is done (the run is
// cancelled, or its --timeout ran out), evaluations in progress stop at
// their next comprehension step and the checks not yet evaluated are not
// started. Each of those findings is error, naming context.Cause(ctx), so
// the findings stay complete and the run reads as incomplete (exit 3).
func (e *Engine) EvaluateContext(cctx context.Context, targetName string, inv *inventory.Inventory) []findings.Finding {
	now := e.now()
	platform := inv.Platform
	if platform == "" {
		platform = inv.Target.Platform
	}
	ctx := &evalCtx{
		target: targetName, inv: inv, platform: platform, now: now,
		targetVal: newObject(modelSchemas.byGo[reflect.TypeOf(inventory.Target{})], reflect.ValueOf(&inv.Target).Elem(), inventory.KindTarget),
		nowVal:    types.Timestamp{Time: now},
		cctx:      cctx,
	}
	info, why := e.adv.Info(now, inv)
	ctx.advSource = "hvaudit advisory data (" + e.adv.Source + ", sha256 " + e.adv.SHA256[:12] + ")"
	ctx.advVal = newObject(modelSchemas.byGo[reflect.TypeOf(AdvisoryInfo{})], reflect.ValueOf(info), "advisories")
	gaps := slices.Clip(inv.Gaps) // an added gap must not land in inv's array
	if why != "" {
		gaps.Add("advisories", "*", "advisories", why)
	}
	ctx.gaps = gaps.Index()

	checksFor := func(scope string) []*engineCheck {
		var out []*engineCheck
		for _, c := range e.byScope[scope] {
			if c.Platform == "any" || c.Platform == platform {
				out = append(out, c)
			}
		}
		return out
	}
	var jobs []job
	if cs := checksFor(inventory.KindTarget); len(cs) > 0 {
		jobs = append(jobs, job{kind: inventory.KindTarget, obj: reflect.ValueOf(&inv.Target).Elem(),
			id: targetName, name: targetName, patch: inv.Target.Patch, checks: cs})
	}
	if cs := checksFor(inventory.KindHost); len(cs) > 0 {
		for i := range inv.Hosts {
			h := &inv.Hosts[i]
			jobs = append(jobs, job{kind: inventory.KindHost, obj: reflect.ValueOf(h).Elem(), id: h.ID, name: h.Name, patch: h.Patch, checks: cs})
		}
	}
	if cs := checksFor(inventory.KindVM); len(cs) > 0 {
		for i := range inv.VMs {
			v := &inv.VMs[i]
			jobs = append(jobs, job{kind: inventory.KindVM, obj: reflect.ValueOf(v).Elem(), id: v.ID, name: v.Name, host: deref(v.Host), patch: v.Patch, checks: cs})
		}
	}
	if cs := checksFor(inventory.KindNetwork); len(cs) > 0 {
		for i := range inv.Networks {
			n := &inv.Networks[i]
			jobs = append(jobs, job{kind: inventory.KindNetwork, obj: reflect.ValueOf(n).Elem(), id: n.ID, name: n.Name, host: deref(n.Host), checks: cs})
		}
	}

	// Every job yields one finding per check: each writes its own window
	// of one slice, so the run's findings are allocated once, never
	// gathered from per-object slices (a second copy of them all).
	offsets := make([]int, len(jobs)+1)
	for i := range jobs {
		offsets[i+1] = offsets[i] + len(jobs[i].checks)
	}
	out := make([]findings.Finding, offsets[len(jobs)])
	workers := min(runtime.GOMAXPROCS(0), len(jobs))
	var next sync.Mutex
	idx := 0
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				i := idx
				idx++
				next.Unlock()
				if i >= len(jobs) {
					return
				}
				e.runJob(ctx, &jobs[i], out[offsets[i]:offsets[i+1]])
			}
		}()
	}
	wg.Wait()
	SortFindings(out)
	return out
}

// activation resolves the CEL variables for one object.
type activation struct {
	ctx      *evalCtx
	kind     string
	obj      ref.Val
	params   ref.Val
	patch    ref.Val
	patchErr error
	// steps counts comprehension steps of the evaluation under way;
	// stopped says why it was interrupted ("" while it runs).
	steps   uint64
	stopped string
}

// Reasons an evaluation was interrupted.
const (
	stoppedBudget  = "budget"
	stoppedContext = "context"
)

// eval runs one program over the object with a fresh step budget.
func (a *activation) eval(prg cel.Program) (ref.Val, error) {
	a.steps, a.stopped = 0, ""
	v, _, err := prg.Eval(a)
	return v, err
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "#interrupted":
		// Asked after every comprehension step (InterruptCheckFrequency).
		a.steps++
		switch {
		case a.steps > MaxSteps:
			a.stopped = stoppedBudget
		case a.steps%interruptEvery == 0 && a.ctx.cctx.Err() != nil:
			a.stopped = stoppedContext
		}
		return a.stopped != "", true
	case a.kind:
		return a.obj, true
	case inventory.KindTarget:
		return a.ctx.targetVal, true
	case "params":
		return a.params, true
	case "advisories":
		return a.ctx.advVal, true
	case "now":
		return a.ctx.nowVal, true
	case "patch":
		if a.patchErr != nil {
			// A fresh error value per use: the interpreter labels error
			// values with the node id in place.
			return types.WrapErr(a.patchErr), true
		}
		if a.patch != nil {
			return a.patch, true
		}
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// runJob judges one object, writing one finding per check into out
// (len(out) == len(j.checks)).
func (e *Engine) runJob(ctx *evalCtx, j *job, out []findings.Finding) {
	s := modelSchemas.byGo[j.obj.Type()]
	act := &activation{ctx: ctx, kind: j.kind, obj: newObject(s, j.obj, j.kind), params: e.params}
	if j.kind == inventory.KindTarget {
		act.obj = ctx.targetVal
	}
	var assessment *PatchAssessment
	if j.kind == inventory.KindHost || j.kind == inventory.KindTarget || j.kind == inventory.KindVM {
		if j.patch == nil {
			act.patchErr = &AbsentError{Path: j.kind + ".patch"}
		} else if pa, err := e.adv.Assess(*j.patch, ctx.now); err != nil {
			act.patchErr = err
		} else {
			assessment = &pa
			if !pa.Covered {
				j.patchGap = e.adv.UncoveredReason(pa)
			}
			act.patch = newObject(modelSchemas.byGo[reflect.TypeOf(pa)], reflect.ValueOf(pa), "patch")
		}
	}
	for i, c := range j.checks {
		out[i] = e.runCheck(ctx, j, act, c, assessment)
	}
}

func (e *Engine) runCheck(ctx *evalCtx, j *job, act *activation, c *engineCheck, pa *PatchAssessment) findings.Finding {
	f := findings.Finding{
		CheckID: c.ID, Title: c.Title, Area: c.Area, Threats: c.Threats, Severity: c.Severity,
		Target: ctx.target, Object: findings.ObjectRef{Kind: j.kind, ID: j.id, Name: j.name, Host: j.host},
		Expected: c.expected, Refs: c.Refs, Remediation: c.Remediation,
	}
	f.Evidence = make([]findings.Evidence, 0, len(c.prog.evidence))
	for _, ev := range c.prog.evidence {
		f.Evidence = append(f.Evidence, e.evidence(ctx, j, act, ev))
	}
	status, msg := findings.Status(""), ""
	if err := ctx.cctx.Err(); err != nil {
		f.Status, f.Message = findings.StatusError, "not evaluated: "+stopReason(ctx.cctx)
		return f
	}
	if c.prog.applies != nil {
		ok, errMsg, gap := e.evalBool(ctx, j, act, c.prog.applies, "applies")
		switch {
		case errMsg != "":
			status, msg = unavailable(c, gap, errMsg)
		case !ok:
			status, msg = findings.StatusNotApplicable, "does not apply: "+c.Applies
		}
	}
	if status == "" {
		ok, errMsg, gap := e.evalBool(ctx, j, act, c.prog.expr, "expr")
		switch {
		case errMsg != "":
			status, msg = unavailable(c, gap, errMsg)
		case ok:
			status = findings.StatusPass
		default:
			status, msg = findings.StatusFail, observed(f.Evidence)
		}
	}
	if c.prog.usesPatch && pa != nil && len(pa.Unverified) > 0 && status != findings.StatusNotApplicable {
		note := "(advisory data not verified against the vendor text: " + strings.Join(pa.Unverified, ", ") + ")"
		if msg == "" {
			msg = note
		} else {
			msg += " " + note
		}
	}
	if status == findings.StatusNotApplicable {
		explainNotNeeded(f.Evidence, j.kind)
	}
	f.Status, f.Message = status, msg
	return f
}

// explainNotNeeded gives the absent evidence values of a check that does
// not apply their reason when no gap explains them: the object has no such
// value because the check is not for it (a standard port group has no
// port-override policy, a VM without VMware Tools no Tools version).
func explainNotNeeded(ev []findings.Evidence, kind string) {
	for i := range ev {
		if ev[i].Observed == absentNoReason {
			ev[i].Observed = "absent (not needed: the check does not apply to this " + kindWords(kind) + ")"
		}
	}
}

// kindWords names an object kind as the reports do ("VM", "host").
func kindWords(kind string) string {
	if kind == inventory.KindVM {
		return "VM"
	}
	return kind
}

// evalBool evaluates a bool program; a non-empty message means error, and
// gap is the collector's gap behind it, when an absent value caused it.
func (e *Engine) evalBool(ctx *evalCtx, j *job, act *activation, prg cel.Program, key string) (bool, string, *inventory.Gap) {
	v, err := act.eval(prg)
	if msg := act.stopMessage(); msg != "" {
		return false, msg, nil
	}
	if err != nil {
		var gap *inventory.Gap
		if p, ok := absentPath(err); ok {
			gap = ctx.gapFor(j, p)
		}
		return false, e.errorMessage(ctx, j, err), gap
	}
	b, ok := v.(types.Bool)
	if !ok {
		return false, fmt.Sprintf("%s returned %s, not a bool", key, v.Type().TypeName()), nil
	}
	return bool(b), "", nil
}

// unavailable decides an evaluation error: a value the object's API release
// predates makes the check not_applicable when the check says so (its
// benchmark has no such requirement for that release), else error.
func unavailable(c *engineCheck, gap *inventory.Gap, errMsg string) (findings.Status, string) {
	if gap != nil && gap.Since != "" && c.WhenUnavailable == findings.StatusNotApplicable {
		return findings.StatusNotApplicable, "does not apply: " + gap.Reason
	}
	return findings.StatusError, errMsg
}

// errorMessage explains an evaluation error: an absent field names the
// collector's gap; anything else is reported as CEL said it.
func (e *Engine) errorMessage(ctx *evalCtx, j *job, err error) string {
	if p, ok := absentPath(err); ok {
		return p + " was not collected: " + ctx.gapReason(j, p)
	}
	var ul *UnknownLineError
	if errors.As(err, &ul) {
		return ul.Error()
	}

	// A map that was read but lacks a key: the platform did not report
	// that setting (an option this build does not have, a service it does
	// not run). That is unknown, so error, with the key named.
	if k, ok := strings.CutPrefix(err.Error(), "no such key: "); ok {
		return fmt.Sprintf("%q was not reported by the platform (the map holding it was read, the key is not in it)", k)
	}
	return "evaluation error: " + err.Error()
}

func (e *Engine) evidence(ctx *evalCtx, j *job, act *activation, ev evidenceProg) findings.Evidence {
	out := findings.Evidence{Field: ev.path, Source: ctx.source(ev.path)}
	if ctx.cctx.Err() != nil {
		out.Observed = "not evaluated (" + stopReason(ctx.cctx) + ")"
		return out
	}
	v, err := act.eval(ev.prog)
	if msg := act.stopMessage(); msg != "" {
		out.Observed = "not evaluated (" + msg + ")"
		return out
	}
	switch {
	case err == nil:
		out.Observed = toNative(v)
	default:
		if p, ok := absentPath(err); ok {
			out.Observed = "absent (" + ctx.gapReason(j, p) + ")"
			if src := ctx.source(p); out.Source == "" {
				out.Source = src
			}
		} else {
			out.Observed = "error (" + e.errorMessage(ctx, j, err) + ")"
		}
	}
	return out
}

// stopMessage explains an interrupted evaluation; "" when it ran to the end.
func (a *activation) stopMessage() string {
	switch a.stopped {
	case stoppedBudget:
		return fmt.Sprintf("evaluation stopped: the expression exceeded its budget of %d comprehension steps over this object's data", MaxSteps)
	case stoppedContext:
		return "evaluation stopped: " + stopReason(a.ctx.cctx)
	}
	return ""
}

// stopReason says why a context ended: its cause when one was given (the
// agent names the --timeout), else the context's error.
func stopReason(c context.Context) string {
	if cause := context.Cause(c); cause != nil {
		return cause.Error()
	}
	return "cancelled"
}

// gapReason finds the gap that explains an absent path of object j.
func (ctx *evalCtx) gapReason(j *job, path string) string {
	if g := ctx.gapFor(j, path); g != nil {
		return g.Reason
	}
	return noGapReason
}

// noGapReason is said of an absent value no gap explains: a collector bug
// where a check applies (integration's TestEveryGapHasItsReason looks for
// it), and never left on a check that does not apply (explainNotNeeded).
const (
	noGapReason    = "the collector recorded no reason"
	absentNoReason = "absent (" + noGapReason + ")"
)

// gapFor finds the gap gapReason explains path with, nil when none: a
// patch field of a release line without advisory coverage, else the
// collector's gap on the object the path's root names (the target by its
// inventory name, then by the run's, should they differ).
func (ctx *evalCtx) gapFor(j *job, path string) *inventory.Gap {
	root := path[:strings.IndexAny(path+".", ".[")]
	switch root {
	case "patch":
		if j.patchGap != "" {
			return &inventory.Gap{Object: inventory.ObjectKey(j.kind, j.id), Field: "patch", Reason: j.patchGap}
		}
	case inventory.KindTarget:
		g := ctx.gaps.For(inventory.KindTarget, ctx.inv.Target.Name, path)
		if g == nil && ctx.target != ctx.inv.Target.Name {
			g = ctx.gaps.For(inventory.KindTarget, ctx.target, path)
		}
		return g
	case j.kind:
		return ctx.gaps.For(j.kind, j.id, path)
	}
	return ctx.gaps.For(root, "*", path)
}

// source names where the value at path was read.
func (ctx *evalCtx) source(path string) string {
	switch root := path[:strings.IndexAny(path+".", ".[")]; root {
	case "patch":
		return ctx.advSource + " compared with the object's patch level"
	case "advisories":
		return ctx.advSource
	}
	return ctx.inv.SourceOf(path)
}

// observed summarises evidence for a failing finding's message.
func observed(ev []findings.Evidence) string {
	if len(ev) == 0 {
		return "the condition does not hold"
	}
	parts := make([]string, len(ev))
	for i, e := range ev {
		parts[i] = e.Field + " = " + formatValue(e.Observed)
	}
	return "observed " + strings.Join(parts, ", ")
}

func formatValue(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case time.Time:
		return t.Format(time.RFC3339)
	case nil:
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// SortFindings orders findings by target, object kind, object name and
// check id (object id breaks ties between same-named objects), the order
// reports, diffs and signatures rely on.
func SortFindings(fs []findings.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := &fs[i], &fs[j]
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		if a.Object.Kind != b.Object.Kind {
			return a.Object.Kind < b.Object.Kind
		}
		if a.Object.Name != b.Object.Name {
			return a.Object.Name < b.Object.Name
		}
		if a.CheckID != b.CheckID {
			return a.CheckID < b.CheckID
		}
		return a.Object.ID < b.Object.ID
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
