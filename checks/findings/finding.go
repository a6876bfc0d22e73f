// Package findings is what an audit produces and every consumer reads: a
// finding, its status and severity, the areas and threats vocabulary, the
// waiver as applied to it, and the score and summary of a run. It is the
// contract between the engine (checks), the report writers and the agent,
// and uses the standard library only, so a package that renders or compares
// findings does not link the CEL engine or the embedded baselines.
package findings

// Status is a finding's outcome (DESIGN.md §4, contract).
type Status string

const (
	StatusPass          Status = "pass"
	StatusFail          Status = "fail"
	StatusError         Status = "error"
	StatusNotApplicable Status = "not_applicable"
	StatusWaived        Status = "waived"
)

// Severity weights a finding in the score.
type Severity string

const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Weight is the severity's share of the score (DESIGN.md §4, contract).
func (s Severity) Weight() int {
	switch s {
	case SeverityCritical:
		return 10
	case SeverityHigh:
		return 6
	case SeverityMedium:
		return 3
	case SeverityLow:
		return 1
	}
	return 0
}

// Rank orders severities: critical 4 … info 0, unknown -1.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	case SeverityInfo:
		return 0
	}
	return -1
}

// FailOnNone is the --fail-on threshold (audit, diff) under which no
// finding gates: an audit exits neither 1 nor, for a finding, 3, and a diff
// gates nothing. It is no finding's severity.
const FailOnNone Severity = "none"

// Areas (DESIGN.md §4, contract).
var Areas = []string{
	"patch", "management-network", "vm-encryption", "migration-encryption",
	"host-access", "console", "host-integrity", "isolation", "side-channel",
	"resource-reuse", "logging", "time", "sprawl", "audit-transport",
}

// Threats is the vocabulary a check's `threats` draws from: what an attacker
// (or an accident) achieves when the check fails. The loader refuses any
// other name, so reports can list exposure per threat completely.
var Threats = []string{
	"vm-escape", "privilege-elevation", "live-migration-interception",
	"resource-reuse", "vm-sprawl", "hyperjacking", "side-channel",
	"data-exposure", "management-plane-exposure", "unpatched-hypervisor",
}

// ThreatDescriptions say in a line what each threat is (README, checks list).
var ThreatDescriptions = map[string]string{
	"vm-escape":                   "code in a guest breaks out to the hypervisor or the host",
	"privilege-elevation":         "a user, guest or service gains rights on the host or the management plane it should not have",
	"live-migration-interception": "memory and state of a migrating VM read or altered in transit (man-in-the-middle)",
	"resource-reuse":              "one tenant reads another's data through reused memory, disk or devices",
	"vm-sprawl":                   "forgotten VMs, snapshots and templates that nobody patches or watches",
	"hyperjacking":                "the hypervisor itself replaced or subverted below the guests (boot chain, unsigned code)",
	"side-channel":                "a guest infers another's secrets through shared CPU or memory state (SMT, page sharing, speculation)",
	"data-exposure":               "VM files, disks, consoles or traffic readable by someone who should not see them",
	"management-plane-exposure":   "the management interfaces reachable, or shared, beyond the administrators' network",
	"unpatched-hypervisor":        "known, fixed vulnerabilities still present in the hypervisor or its management stack",
}

// ObjectRef names the object a finding is about.
type ObjectRef struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name"`
	// Host is the id of the host a VM runs on or a host-local network
	// (a standard port group) belongs to, where known: per-asset exports
	// such as STIG checklists file the finding under that host.
	Host string `json:"host,omitempty"`
}

// Evidence is one observed value, where it was read from. The time is the
// target's collected_at.
type Evidence struct {
	Field    string `json:"field"`
	Observed any    `json:"observed"`
	Source   string `json:"source"`
}

// Refs lists the framework ids a check answers.
type Refs struct {
	STIG      []string `json:"stig,omitempty" toml:"stig"`
	SCG       []string `json:"scg,omitempty" toml:"scg"`
	CIS       []string `json:"cis,omitempty" toml:"cis"`
	NIST80053 []string `json:"nist80053,omitempty" toml:"nist80053"`
	Docs      []string `json:"docs,omitempty" toml:"docs"`
}

// Finding is one check's outcome for one object.
type Finding struct {
	CheckID        string     `json:"check_id"`
	Title          string     `json:"title"`
	Area           string     `json:"area"`
	Threats        []string   `json:"threats,omitempty"`
	Severity       Severity   `json:"severity"`
	Status         Status     `json:"status"`
	ObservedStatus Status     `json:"observed_status,omitempty"`
	Target         string     `json:"target"`
	Object         ObjectRef  `json:"object"`
	Evidence       []Evidence `json:"evidence"`
	Expected       string     `json:"expected"`
	Message        string     `json:"message"`
	Refs           Refs       `json:"refs"`
	Remediation    string     `json:"remediation"`
	Waiver         *Waiver    `json:"waiver,omitempty"`
}

// Waiver is an accepted risk as applied to a finding.
type Waiver struct {
	CheckID       string `json:"check_id"`
	Target        string `json:"target,omitempty"`
	Object        string `json:"object,omitempty"`
	Justification string `json:"justification"`
	Approver      string `json:"approver,omitempty"`
	Expires       string `json:"expires"`
	// Expired is set on a finding whose matching waiver has lapsed: the
	// finding keeps its real status and says so.
	Expired bool `json:"expired,omitempty"`
}
