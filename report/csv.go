package report

import (
	"bytes"
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// csvWriter writes one row per finding, in the JSON report's order, for
// auditors who open a spreadsheet first. Every framework has its own column
// (ids joined with ";") and remediation and waiver fields are included, so a
// filtered view of the sheet is a complete work list.
//
// A target that could not be collected has no findings; it still gets one
// row (object kind "target", empty check_id, status "error", the collection
// error as message), so a sheet filtered on status=error shows every gap in
// the audit instead of silently lacking a host.
type csvWriter struct{}

func (csvWriter) Format() string { return "csv" }

// csvHeader is the column order. Scripts select columns by these names;
// append new columns at the end.
var csvHeader = []string{
	"target", "object_kind", "object_id", "object_name",
	"check_id", "title", "area", "severity", "status", "observed_status",
	"observed", "evidence_source", "expected", "message",
	"stig", "scg", "cis", "nist80053",
	"remediation",
	"waiver_justification", "waiver_approver", "waiver_expires", "waiver_expired",
	"threats",
}

func (csvWriter) Write(w io.Writer, run *Run) error {
	r, err := prepare(run)
	if err != nil {
		return err
	}
	// prepare sorted the targets by name, as the findings are sorted by
	// target first, so the failed targets merge in at their place.
	var pending []TargetResult
	for _, t := range r.Targets {
		if t.Status != TargetOK {
			pending = append(pending, t)
		}
	}
	rows := [][]string{csvHeader}
	for _, f := range r.Findings {
		for len(pending) > 0 && pending[0].Name <= f.Target {
			rows = append(rows, csvTargetRow(pending[0]))
			pending = pending[1:]
		}
		rows = append(rows, csvRow(f))
	}
	for _, t := range pending {
		rows = append(rows, csvTargetRow(t))
	}
	// Rendered into memory first so a failing writer never leaves half a
	// sheet behind.
	var buf bytes.Buffer
	if err := csv.NewWriter(&buf).WriteAll(rows); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func csvRow(f findings.Finding) []string {
	var observed, sources []string
	for _, e := range f.Evidence {
		observed = append(observed, clean(e.Field, false)+" = "+observedText(e.Observed))
		if e.Source != "" {
			sources = append(sources, clean(e.Field, false)+": "+clean(e.Source, false))
		}
	}
	var wJust, wApprover, wExpires, wExpired string
	if w := f.Waiver; w != nil {
		wJust, wApprover, wExpires = clean(w.Justification, true), clean(w.Approver, false), clean(w.Expires, false)
		wExpired = strconv.FormatBool(w.Expired)
	}
	row := []string{
		clean(f.Target, false), clean(f.Object.Kind, false), clean(f.Object.ID, false), clean(f.Object.Name, false),
		clean(f.CheckID, false), clean(f.Title, true), clean(f.Area, false), clean(string(f.Severity), false),
		clean(string(f.Status), false), clean(string(f.ObservedStatus), false),
		strings.Join(observed, "\n"), strings.Join(sources, "\n"), clean(f.Expected, true), clean(f.Message, true),
		joinIDs(f.Refs.STIG), joinIDs(f.Refs.SCG), joinIDs(f.Refs.CIS), joinIDs(f.Refs.NIST80053),
		clean(f.Remediation, true),
		wJust, wApprover, wExpires, wExpired,
		clean(strings.Join(f.Threats, ";"), false),
	}
	for i := range row {
		row[i] = csvSafe(row[i])
	}
	return row
}

// csvTargetRow stands for a target that could not be audited.
func csvTargetRow(t TargetResult) []string {
	row := make([]string, len(csvHeader))
	set := func(col, v string) {
		for i, h := range csvHeader {
			if h == col {
				row[i] = csvSafe(v)
				return
			}
		}
	}
	set("target", clean(t.Name, false))
	set("object_kind", "target")
	set("object_id", clean(t.Name, false))
	set("object_name", clean(t.Name, false))
	set("title", "The target could not be audited")
	set("status", string(findings.StatusError))
	set("message", clean(orDefault(t.Error, "no error message recorded"), true))
	return row
}

func joinIDs(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = clean(id, false)
	}
	return strings.Join(out, ";")
}

// csvSafe defuses formula injection: spreadsheets run a cell that starts
// with =, +, -, @ (or a tab or carriage return before one) as a formula,
// and VM names, messages and evidence come from the audited estate. Such a
// cell is prefixed with a single quote, which spreadsheets show as text and
// hide. A plain number ("-1") is left alone: it is no formula, and quoting
// it would change the data.
func csvSafe(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}
