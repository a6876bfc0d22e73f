// Package report holds the Run result type (hvaudit/report/v1) and one writer
// per output format. Every format is rendered from a Run.
package report

import (
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Schema is the JSON report's schema id (DESIGN.md §6, contract).
const Schema = "hvaudit/report/v1"

// Run is one audit's complete result.
type Run struct {
	Schema   string             `json:"schema"`
	Tool     Tool               `json:"tool"`
	Run      RunInfo            `json:"run"`
	Targets  []TargetResult     `json:"targets"`
	Findings []findings.Finding `json:"findings"`
	Summary  findings.Summary   `json:"summary"`
}

// Tool names hvaudit and its version.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// RunInfo identifies the run and the data it was judged against.
type RunInfo struct {
	ID              string         `json:"id"`
	Started         time.Time      `json:"started"`
	Finished        time.Time      `json:"finished"`
	Baseline        BaselineInfo   `json:"baseline"`
	TailoringSHA256 string         `json:"tailoring_sha256,omitempty"`
	WaiversSHA256   string         `json:"waivers_sha256,omitempty"`
	Advisories      AdvisoriesInfo `json:"advisories"`
	// UnusedWaivers are the waivers that waived nothing in this run: they
	// matched no fail or error finding, or they have expired.
	UnusedWaivers []UnusedWaiver `json:"unused_waivers,omitempty"`
	// Scope records how the run was narrowed (audit --check, --area,
	// --object); nil when it covered every check and object. The score
	// covers only the narrowed run.
	Scope *Scope `json:"scope,omitempty"`
}

// Scope is the narrowing of a run: the check ids (or aliases, or globs),
// areas and object globs it was limited to. An empty list does not narrow.
type Scope struct {
	Checks  []string `json:"checks,omitempty"`
	Areas   []string `json:"areas,omitempty"`
	Objects []string `json:"objects,omitempty"`
}

// UnusedWaiver names a waiver entry that waived nothing, and why.
type UnusedWaiver struct {
	Check   string    `json:"check"`
	Target  string    `json:"target,omitempty"`
	Object  string    `json:"object,omitempty"`
	Expires time.Time `json:"expires"`
	File    string    `json:"file"`
	Line    int       `json:"line"`
	// Reason is "matched-nothing" or "expired".
	Reason string `json:"reason"`
}

// BaselineInfo names the baseline used.
type BaselineInfo struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

// AdvisoriesInfo names the advisory data used.
type AdvisoriesInfo struct {
	AsOf   string `json:"as_of"`
	SHA256 string `json:"sha256"`
	// Source is "builtin", or builtin plus the advisory directory and the
	// products taken from it.
	Source string `json:"source,omitempty"`
	// CompleteThrough is, per product, the day through which the data
	// holds every advisory.
	CompleteThrough map[string]string `json:"complete_through,omitempty"`
}

// TargetResult is what happened to one target.
type TargetResult struct {
	Name        string          `json:"name"`
	URI         string          `json:"uri"`
	Platform    string          `json:"platform"`
	Product     string          `json:"product,omitempty"`
	Version     string          `json:"version,omitempty"`
	Build       string          `json:"build,omitempty"`
	Status      string          `json:"status"` // ok | error
	Error       string          `json:"error,omitempty"`
	CollectedAt *time.Time      `json:"collected_at,omitempty"`
	Gaps        []inventory.Gap `json:"gaps"`
	Collector   CollectorInfo   `json:"collector"`
	// Hosts are the target's hosts with the release they run, where it
	// was read: a checklist names the benchmark release it applies to a
	// host of another release (an ESXi 7.0 host under a vCenter 8.0).
	Hosts []HostRelease `json:"hosts,omitempty"`
}

// HostRelease is one host of a target and the product release it runs
// (its patch level: "esxi" 7.0.3 build 21930508).
type HostRelease struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Product string `json:"product"`
	Version string `json:"version"`
	Build   string `json:"build,omitempty"`
}

// CollectorInfo is what collecting the target cost.
type CollectorInfo struct {
	DurationMS int64 `json:"duration_ms"`
	Calls      int   `json:"calls"`
}

// Target statuses.
const (
	TargetOK    = "ok"
	TargetError = "error"
)
