package integration

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/report"
)

// TestDemoEstateSecurityChecks audits the demo estate through the binary and
// asserts the status of every check issue 10 added or corrected, on the
// hardened and the neglected object, and that what the vSphere API cannot
// show ends as error naming where it can be read.
func TestDemoEstateSecurityChecks(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	out := filepath.Join(t.TempDir(), "r.json")
	r := runHV(t, nil, "audit", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password),
		"--thumbprint", sim.Thumbprint, "--format", "json", "--output", out)
	if r.code != 3 {
		t.Fatalf("exit %d, want 3 (errors at or above low remain: the TLS profiles); stderr:\n%s", r.code, r.stderr)
	}
	run := readRun(t, out)
	if len(run.Targets) != 1 || run.Targets[0].Status != report.TargetOK {
		t.Fatalf("target not audited: %+v", run.Targets)
	}
	vc := run.Targets[0].Name
	for _, tc := range []struct {
		check, object string
		want          findings.Status
	}{
		{"ESXI-INT-03", "esx-prod-01", findings.StatusPass}, {"ESXI-INT-03", "esx-prod-02", findings.StatusFail},
		{"ESXI-INT-04", "esx-prod-01", findings.StatusPass}, {"ESXI-INT-04", "esx-prod-02", findings.StatusFail},
		{"ESXI-INT-05", "esx-prod-01", findings.StatusPass}, {"ESXI-INT-05", "esx-prod-02", findings.StatusFail},
		{"ESXI-ACC-06", "esx-prod-01", findings.StatusPass}, {"ESXI-ACC-06", "esx-prod-02", findings.StatusFail},
		{"ESXI-ACC-15", "esx-prod-01", findings.StatusPass}, {"ESXI-ACC-15", "esx-prod-02", findings.StatusFail},
		{"ESXI-ACC-15", "esx-legacy-01", findings.StatusNotApplicable},
		{"ESXI-ACC-16", "esx-prod-01", findings.StatusPass}, {"ESXI-ACC-16", "esx-prod-02", findings.StatusFail},
		{"ESXI-CERT-02", "esx-prod-01", findings.StatusPass}, {"ESXI-CERT-02", "esx-prod-02", findings.StatusFail},
		{"ESXI-LOG-05", "esx-prod-01", findings.StatusPass}, {"ESXI-LOG-05", "esx-prod-02", findings.StatusFail},
		{"ESXI-NET-12", "esx-prod-01", findings.StatusPass}, {"ESXI-NET-12", "esx-legacy-01", findings.StatusNotApplicable},
		{"ESXI-NET-13", "dvpg-apps", findings.StatusFail}, {"ESXI-NET-14", "dvpg-apps", findings.StatusPass},
		{"ESXI-VC-DVS-01", vc, findings.StatusPass}, {"ESXI-VC-DVS-02", vc, findings.StatusFail}, {"ESXI-VC-DVS-03", vc, findings.StatusPass},
		{"ESXI-VC-VSAN-01", vc, findings.StatusPass}, {"ESXI-VC-VSAN-02", vc, findings.StatusFail},
		{"ESXI-VC-LOG-01", vc, findings.StatusPass}, {"ESXI-VC-LOG-02", vc, findings.StatusFail}, {"ESXI-VC-ACC-01", vc, findings.StatusPass},
		// VMs: unset isolation settings pass; FT encryption only where FT runs.
		{"ESXI-VM-ISO-01", "app-01", findings.StatusPass}, {"ESXI-VM-ISO-01", "web-01", findings.StatusFail},
		{"ESXI-VM-ISO-02", "app-01", findings.StatusPass},
		{"ESXI-VM-MIG-02", "db-01", findings.StatusPass}, {"ESXI-VM-MIG-02", "web-01", findings.StatusNotApplicable},
		{"ESXI-VM-ISO-08", "db-01", findings.StatusPass}, {"ESXI-VM-ISO-09", "web-01", findings.StatusFail},
		{"ESXI-VM-ISO-10", "db-01", findings.StatusPass}, {"ESXI-VM-ISO-11", "web-01", findings.StatusFail},
		{"ESXI-VM-LOG-02", "db-01", findings.StatusPass},
	} {
		assertStatus(t, run, tc.check, tc.object, tc.want)
	}
	for _, tc := range []struct{ check, object, names string }{
		{"ESXI-TLS-02", "esx-prod-01", "esxcli system tls server get"},
		{"ESXI-VC-TLS-01", vc, "/api/appliance/tls/profiles/global"},
		{"ESXI-NET-12", "esx-prod-02", "esxcli iscsi networkportal list"},
	} {
		if f := finding(t, run, tc.check, tc.object); f.Status != findings.StatusError || !strings.Contains(f.Message, tc.names) {
			t.Errorf("%s on %s: %s %q, want error naming %q", tc.check, tc.object, f.Status, f.Message, tc.names)
		}
	}
}
