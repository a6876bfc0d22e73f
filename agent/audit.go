// Package agent runs audits: it reads targets through their collectors with
// bounded concurrency and a timeout each, evaluates the inventories against
// the baseline and hands the Run to the report writers.
package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/hvaudit/hvaudit/agent/advisories"
	"github.com/hvaudit/hvaudit/checks"
	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/report"
)

// Version is set at build time (-ldflags "-X …/agent.Version=…").
var Version = "dev"

// toolName is the program's name in reports and snapshots.
const toolName = "hvaudit"

// Request is everything one audit needs.
type Request struct {
	Targets     []collectors.Target
	Snapshots   []string // audit saved snapshot files instead of targets
	Baseline    string   // "builtin:NAME" or a file
	Tailoring   string
	Waivers     string
	Advisories  string // directory; "" = embedded data
	Concurrency int
	// Timeout bounds the evaluation of each snapshot's inventory (a live
	// target's own Timeout bounds its collection and, again, its
	// evaluation). 0 is no limit beyond ctx.
	Timeout time.Duration
	Now     func() time.Time
	Log     zerolog.Logger
	// Progress, when set, receives one line per target as it completes.
	Progress io.Writer
	// Scope, when set, narrows the run to some checks, areas and objects
	// (audit --check, --area, --object); the run records it and its score
	// covers only it.
	Scope *report.Scope
	// SaveSnapshot, when set, sees each live target's snapshot as soon as
	// it is read, before it is normalized (audit --save-snapshot); it
	// keeps its own errors. Without it a live audit never encodes a
	// snapshot at all.
	SaveSnapshot func(*collectors.Snapshot)
}

// Judge holds the loaded, compiled evaluation inputs. Loading it first means
// a bad baseline, tailoring or waivers file stops the run before any target
// is contacted.
type Judge struct {
	Baseline   *checks.Baseline
	Advisories *checks.Advisories
	Waivers    *checks.Waivers
	Engine     *checks.Engine
	tailorSHA  string
	waiverSHA  string
}

// LoadJudge loads and compiles baseline, tailoring, advisory data and
// waivers. Every error is a ConfigError.
func LoadJudge(req Request) (*Judge, error) {
	ref := req.Baseline
	if ref == "" {
		ref = "builtin:default"
	}
	b, err := checks.LoadBaseline(ref)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	j := &Judge{Baseline: b}
	if req.Tailoring != "" {
		if err := b.Tailor(req.Tailoring); err != nil {
			return nil, &ConfigError{Err: err}
		}
		if j.tailorSHA, err = fileSHA256(req.Tailoring); err != nil {
			return nil, &ConfigError{Err: err}
		}
	}
	// The advisory directory (--advisories, the config's, else the
	// default one `hvaudit advisories update` writes) replaces the built-in
	// data per product where it is more complete.
	advDir := req.Advisories
	if advDir == "" {
		advDir = advisories.DefaultDir()
	}
	if j.Advisories, err = advisories.Effective(advDir); err != nil {
		return nil, &ConfigError{Err: err}
	}
	if req.Waivers != "" {
		if j.Waivers, err = checks.LoadWaivers(req.Waivers); err != nil {
			return nil, &ConfigError{Err: err}
		}
		if j.waiverSHA, err = fileSHA256(req.Waivers); err != nil {
			return nil, &ConfigError{Err: err}
		}
		j.Waivers.FollowAliases(b)
	}
	if j.Engine, err = checks.NewEngine(b, j.Advisories, req.Now); err != nil {
		return nil, &ConfigError{Err: err}
	}
	return j, nil
}

// Audit runs a whole audit. It returns an error only for configuration
// problems; a target that fails is recorded in the Run as that target's error.
func Audit(ctx context.Context, req Request) (*report.Run, error) {
	if req.Now == nil {
		req.Now = time.Now
	}
	judge, err := LoadJudge(req)
	if err != nil {
		return nil, err
	}
	return judge.Audit(ctx, req)
}

// Audit runs an audit with evaluation inputs loaded once, as `serve` does
// for every scheduled run; req's baseline, tailoring, waivers and
// advisories are not read again.
func (j *Judge) Audit(ctx context.Context, req Request) (*report.Run, error) {
	if req.Now == nil {
		req.Now = time.Now
	}
	if len(req.Targets) == 0 && len(req.Snapshots) == 0 {
		return nil, configErrorf("no target: give --target URI, --snapshot FILE or targets in --config")
	}
	var scope *checks.Scope
	if s := req.Scope; s != nil {
		var err error
		if scope, err = checks.NewScope(j.Baseline, s.Checks, s.Areas, s.Objects); err != nil {
			return nil, &ConfigError{Err: err}
		}
	}
	started := req.Now().UTC()
	var results []targetOutcome
	var err error
	if len(req.Snapshots) > 0 {
		results, err = loadSnapshots(req.Snapshots, req.Timeout)
		if err != nil {
			return nil, err
		}
	} else {
		results = collectAll(ctx, req)
	}
	run := j.judge(ctx, results, req.Now, req.Log, scope)
	if scope != nil {
		run.Run.Scope = req.Scope
	}
	run.Run.Started = started
	run.Run.Finished = req.Now().UTC()
	return run, nil
}

// targetOutcome is one target after collection and normalization.
type targetOutcome struct {
	name, uri, platform string
	inv                 *inventory.Inventory
	err                 error
	stats               collectors.Stats
	// timeout bounds the evaluation of inv (the target's --timeout).
	timeout time.Duration
}

func collectAll(ctx context.Context, req Request) []targetOutcome {
	n := req.Concurrency
	if n <= 0 {
		n = 4
	}
	out := make([]targetOutcome, len(req.Targets))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	var progressMu sync.Mutex
	for i, t := range req.Targets {
		wg.Add(1)
		go func(i int, t collectors.Target) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			log := req.Log.With().Str("target", t.Name).Logger()
			log.Info().Str("uri", collectors.Redact(t.URI)).Msg("collecting")
			o := collectOne(ctx, t, req.SaveSnapshot)
			o.timeout = t.Timeout
			out[i] = o
			if o.err != nil {
				log.Error().Err(o.err).Msg("target failed")
			} else {
				log.Info().Int64("duration_ms", o.stats.DurationMS).Int("calls", o.stats.Calls).Msg("collected")
			}
			if req.Progress != nil {
				progressMu.Lock()
				// The name and the error come from the user and the server:
				// one line each, whatever they hold.
				name := report.Neutralize(t.Name, false)
				if o.err != nil {
					fmt.Fprintf(req.Progress, "  %-24s error: %s\n", name, report.Neutralize(o.err.Error(), false))
				} else {
					fmt.Fprintf(req.Progress, "  %-24s collected in %.1fs, %d calls\n", name, float64(o.stats.DurationMS)/1000, o.stats.Calls)
				}
				progressMu.Unlock()
			}
		}(i, t)
	}
	wg.Wait()
	return out
}

// collectOne fetches and normalizes one target under its own timeout. A
// panic in a collector becomes that target's error, never the run's end.
// The snapshot is dropped once normalized (save, when set, sees it first):
// only the inventory lives on through evaluation and the reports.
func collectOne(ctx context.Context, t collectors.Target, save func(*collectors.Snapshot)) (o targetOutcome) {
	o = targetOutcome{name: t.Name, uri: collectors.Redact(t.URI)}
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			o.err = fmt.Errorf("collector crashed: %v\n%s", r, debug.Stack())
		}
		if o.stats.DurationMS == 0 {
			o.stats.DurationMS = time.Since(start).Milliseconds()
		}
	}()
	c, err := collectors.ForURI(t.URI)
	if err != nil {
		o.err = err
		return o
	}
	o.platform = c.Platform()
	snap, err := fetch(ctx, c, t)
	if err != nil {
		o.err = err
		return o
	}
	o.stats = snap.Stats
	if save != nil {
		save(snap)
	}
	o.inv, o.err = normalize(c, snap)
	return o
}

// fetch is the agent's collect step: one collector's Fetch under the
// target's timeout. It completes the envelope with what only the agent
// knows: the tool that wrote the snapshot, the target's name as
// configured, and how long the collection took.
func fetch(ctx context.Context, c collectors.Collector, t collectors.Target) (*collectors.Snapshot, error) {
	start := time.Now()
	if t.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.Timeout)
		defer cancel()
	}
	snap, err := c.Fetch(ctx, t)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("timed out after %s: %w", t.Timeout, err)
		}
		return nil, err
	}
	snap.Tool = collectors.Tool{Name: toolName, Version: Version}
	snap.Target.Name = t.Name
	snap.Stats.DurationMS = time.Since(start).Milliseconds()
	return snap, nil
}

// normalize maps a snapshot to its inventory. A collector that panics
// (inventory.Gaps.Add refuses a gap without a reason) fails this target,
// live or from a file, never the run.
func normalize(c collectors.Collector, snap *collectors.Snapshot) (_ *inventory.Inventory, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("normalizing %s data: the collector crashed: %v", snap.Platform, r)
		}
	}()
	inv, err := c.Normalize(snap)
	if err != nil {
		return nil, fmt.Errorf("normalizing %s data: %w", snap.Platform, err)
	}
	if err := duplicateObject(inv); err != nil {
		return nil, err
	}
	inv.Target.Name = snap.Target.Name
	inv.Target.URI = snap.Target.URI
	inv.Target.Transport = snap.Target.RecordedTransport()
	if inv.Target.Transport == nil {
		inv.Gaps.Add(inventory.KindTarget, "*", "target.transport",
			"the snapshot does not record how its target was reached (no target.transport.method)")
	}
	return inv, nil
}

// loadSnapshots reads saved snapshot files; a malformed one, one holding
// the same object twice, or two holding the same target name are
// configuration errors naming the files.
func loadSnapshots(paths []string, timeout time.Duration) ([]targetOutcome, error) {
	var out []targetOutcome
	byName := map[string]string{}
	for _, p := range paths {
		snap, err := ReadSnapshot(p)
		if err != nil {
			return nil, &ConfigError{Err: err}
		}
		if snap.Target.Name == "" {
			snap.Target.Name = collectors.DefaultName(snap.Target.URI)
		}
		key := strings.ToLower(snap.Target.Name)
		if prev, dup := byName[key]; dup {
			return nil, configErrorf("snapshots %s and %s both hold target %q: their findings would merge into one score; "+
				"collect them again with distinct names (hvaudit collect --name NAME)", prev, p, snap.Target.Name)
		}
		byName[key] = p
		c, err := collectors.ForPlatform(snap.Platform)
		if err != nil {
			return nil, configErrorf("%s: %w", p, err)
		}
		o := targetOutcome{name: snap.Target.Name, uri: snap.Target.URI, platform: snap.Platform, stats: snap.Stats, timeout: timeout}
		o.inv, o.err = normalize(c, snap)
		var dup *DuplicateObjectError
		if errors.As(o.err, &dup) {
			return nil, configErrorf("snapshot %s: %w", p, dup)
		}
		out = append(out, o)
	}
	return out, nil
}

// DuplicateObjectError is an inventory that holds one object twice: a
// collector or a hand-edited snapshot gave the same id to two objects,
// which would count every finding of it twice.
type DuplicateObjectError struct {
	Kind, ID     string
	First, Again string // the objects' names
}

func (e *DuplicateObjectError) Error() string {
	return fmt.Sprintf(`%s id "%s" appears twice (named "%s" and "%s"); refusing the data rather than scoring the object twice`,
		e.Kind, report.Neutralize(e.ID, false), report.Neutralize(e.First, false), report.Neutralize(e.Again, false))
}

// duplicateObject finds the first host, VM or network whose id repeats.
func duplicateObject(inv *inventory.Inventory) error {
	type obj struct{ id, name string }
	check := func(kind string, objs []obj) error {
		seen := make(map[string]string, len(objs))
		for _, o := range objs {
			if first, dup := seen[o.id]; dup {
				return &DuplicateObjectError{Kind: kind, ID: o.id, First: first, Again: o.name}
			}
			seen[o.id] = o.name
		}
		return nil
	}
	hosts := make([]obj, len(inv.Hosts))
	for i, h := range inv.Hosts {
		hosts[i] = obj{h.ID, h.Name}
	}
	vms := make([]obj, len(inv.VMs))
	for i, v := range inv.VMs {
		vms[i] = obj{v.ID, v.Name}
	}
	nets := make([]obj, len(inv.Networks))
	for i, n := range inv.Networks {
		nets[i] = obj{n.ID, n.Name}
	}
	return errors.Join(check(inventory.KindHost, hosts), check(inventory.KindVM, vms), check(inventory.KindNetwork, nets))
}

// ReadSnapshot reads and checks a snapshot file.
func ReadSnapshot(path string) (*collectors.Snapshot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	s, err := collectors.DecodeSnapshot(b)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return s, nil
}

// judge evaluates every collected inventory and assembles the Run. Each
// target's evaluation runs under ctx and its own timeout; scope, when set,
// keeps only the findings it includes.
func (j *Judge) judge(ctx context.Context, outcomes []targetOutcome, now func() time.Time, log zerolog.Logger, scope *checks.Scope) *report.Run {
	run := &report.Run{
		Schema: report.Schema,
		Tool:   report.Tool{Name: toolName, Version: Version},
		Run: report.RunInfo{
			ID:              newRunID(),
			Baseline:        report.BaselineInfo{ID: j.Baseline.ID, Version: j.Baseline.Version, SHA256: j.Baseline.SHA256},
			TailoringSHA256: j.tailorSHA,
			WaiversSHA256:   j.waiverSHA,
			Advisories:      advisoriesInfo(j.Advisories),
		},
		Findings: []findings.Finding{},
	}
	var failed []string
	for _, o := range outcomes {
		tr := report.TargetResult{
			Name: o.name, URI: o.uri, Platform: o.platform, Status: report.TargetOK,
			Gaps:      []inventory.Gap{},
			Collector: report.CollectorInfo{DurationMS: o.stats.DurationMS, Calls: o.stats.Calls},
		}
		if o.err != nil {
			tr.Status, tr.Error = report.TargetError, o.err.Error()
			failed = append(failed, o.name)
			run.Targets = append(run.Targets, tr)
			continue
		}
		inv := o.inv
		at := inv.CollectedAt.UTC()
		tr.CollectedAt = &at
		tr.Product, tr.Version, tr.Build = deref(inv.Target.Product), deref(inv.Target.Version), deref(inv.Target.Build)
		if inv.Gaps != nil {
			tr.Gaps = inv.Gaps
		}
		tr.Hosts = hostReleases(inv.Hosts)
		run.Targets = append(run.Targets, tr)
		fs := scope.Narrow(j.evaluate(ctx, o))
		if len(run.Findings) == 0 && fs != nil {
			// The first target's findings become the run's as they are:
			// appending them would copy the largest part of an audit.
			run.Findings = fs
		} else {
			run.Findings = append(run.Findings, fs...)
		}
	}
	if j.Waivers != nil {
		at := now()
		for _, w := range j.Waivers.Apply(run.Findings, at) {
			msg, reason := "unused waiver: it matched no fail or error finding", "matched-nothing"
			if w.Expired(at) {
				msg, reason = "unused waiver: it has expired, so it waives nothing (findings it matches say so)", "expired"
			} else if scope != nil {
				continue // a narrowed run cannot tell: its finding may be out of scope
			}
			run.Run.UnusedWaivers = append(run.Run.UnusedWaivers, report.UnusedWaiver{
				Check: w.Check, Target: w.Target, Object: w.Object, Expires: w.Expires, File: w.File, Line: w.Line, Reason: reason,
			})
			log.Warn().Str("waiver", fmt.Sprintf("%s:%d", w.File, w.Line)).Str("check", w.Check).
				Time("expires", w.Expires).Msg(msg)
		}
	}
	checks.SortFindings(run.Findings)
	sort.SliceStable(run.Targets, func(a, b int) bool { return run.Targets[a].Name < run.Targets[b].Name })
	run.Summary = findings.Summarize(run.Findings, failed)
	return run
}

// evaluate judges one inventory under the target's timeout, so a costly
// baseline expression cannot hold the run past --timeout.
func (j *Judge) evaluate(ctx context.Context, o targetOutcome) []findings.Finding {
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, o.timeout,
			fmt.Errorf("evaluating target %s ran past --timeout %s", o.name, o.timeout))
		defer cancel()
	}
	return j.Engine.EvaluateContext(ctx, o.name, o.inv)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// newRunID returns a random UUID (version 4).
func newRunID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Collect fetches one target for `hvaudit collect`, under its timeout.
func Collect(ctx context.Context, t collectors.Target, log zerolog.Logger) (*collectors.Snapshot, error) {
	c, err := collectors.ForURI(t.URI)
	if err != nil {
		return nil, err
	}
	log.Info().Str("target", t.Name).Str("uri", collectors.Redact(t.URI)).Msg("collecting")
	return fetch(ctx, c, t)
}

// advisoriesInfo records which advisory data judged the run: its source
// and, per product, how far it is complete.
func advisoriesInfo(a *checks.Advisories) report.AdvisoriesInfo {
	info := report.AdvisoriesInfo{AsOf: a.AsOf.Format("2006-01-02"), SHA256: a.SHA256, Source: a.Source,
		CompleteThrough: map[string]string{}}
	for p, pr := range a.Products {
		info.CompleteThrough[p] = pr.CompleteThrough.Format("2006-01-02")
	}
	return info
}

// hostReleases lists the hosts whose patch level was read, with it.
func hostReleases(hosts []inventory.Host) []report.HostRelease {
	var out []report.HostRelease
	for _, h := range hosts {
		if h.Patch == nil || h.Patch.Product == "" {
			continue
		}
		out = append(out, report.HostRelease{ID: h.ID, Name: h.Name, Product: h.Patch.Product, Version: h.Patch.Version, Build: h.Patch.Build})
	}
	return out
}
