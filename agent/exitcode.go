package agent

import (
	"fmt"
	"strings"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/report"
)

// Exit codes of `hvaudit audit` (DESIGN.md §5, contract).
const (
	ExitOK         = 0 // nothing failing at or above --fail-on
	ExitFailing    = 1 // a fail at or above --fail-on
	ExitUsage      = 2 // usage or configuration error; nothing audited
	ExitIncomplete = 3 // a target error, or an error finding at or above --fail-on
	// ExitOutput: the audit ran but a report (or snapshot, or signature)
	// could not be written. It wins over 3 and 1: the results exist only
	// partly, and a scheduler must not read the findings' code as the truth.
	ExitOutput = 4
)

// FailOnValues are the values --fail-on takes, worst first.
var FailOnValues = []string{"critical", "high", "medium", "low", "info", string(findings.FailOnNone)}

// ParseSeverity checks a --fail-on value.
func ParseSeverity(s string) (findings.Severity, error) {
	sev := findings.Severity(s)
	if sev.Rank() < 0 && sev != findings.FailOnNone {
		return "", configErrorf("--fail-on %q is not one of %s", s, strings.Join(FailOnValues, ", "))
	}
	return sev, nil
}

// ExitCode decides the audit's exit code. Incomplete wins over failing: a
// run that could not see everything must not read as merely non-compliant.
func ExitCode(run *report.Run, failOn findings.Severity) int {
	incomplete, failing := false, false
	for _, t := range run.Targets {
		if t.Status == report.TargetError {
			incomplete = true
		}
	}
	for _, f := range run.Findings {
		if failOn == findings.FailOnNone || f.Severity.Rank() < failOn.Rank() {
			continue
		}
		switch f.Status {
		case findings.StatusError:
			incomplete = true
		case findings.StatusFail:
			failing = true
		}
	}
	switch {
	case incomplete:
		return ExitIncomplete
	case failing:
		return ExitFailing
	}
	return ExitOK
}

// ExitError carries an exit code out of a command.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

// OutputFailure turns a failure to write reports after the audit ran into
// exit 4, naming the exit code the findings alone would have given so that
// nothing of the audit's verdict is lost.
func OutputFailure(err error, findingsCode int) *ExitError {
	verdict := map[int]string{
		ExitOK: "nothing failing", ExitFailing: "failing findings", ExitIncomplete: "incomplete",
	}[findingsCode]
	return &ExitError{Code: ExitOutput, Err: fmt.Errorf("%w (the audit itself ran: %s, exit %d without this failure)", err, verdict, findingsCode)}
}
