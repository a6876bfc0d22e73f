package report

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the output (go test ./report -update rewrites it after review):\n--- got\n%s", path, got)
	}
}

func ptr[T any](v T) *T { return &v }

// sampleRun is a hand-built run covering what writers must handle: every
// status, a target that could not be collected, a waiver hiding a fail and
// one hiding an error, an expired waiver, nil scores, absent evidence,
// evidence too long for one line, a VM name carrying terminal escape
// sequences, and findings given out of order.
func sampleRun() *Run {
	started := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	collected := started.Add(4 * time.Second)
	sha := func(c byte) string {
		b := make([]byte, 64)
		for i := range b {
			b[i] = c
		}
		return string(b)
	}
	refs := findings.Refs{STIG: []string{"ESXI-80-000000"}, NIST80053: []string{"CM-6"}}

	fs := []findings.Finding{
		{
			CheckID: "VC-TGT-NTP-01", Title: "vCenter synchronises time with NTP", Area: "time",
			Severity: findings.SeverityInfo, Status: findings.StatusNotApplicable, Target: "vc01",
			Object:   findings.ObjectRef{Kind: "target", ID: "vc01", Name: "vc01"},
			Evidence: []findings.Evidence{}, Expected: "NTP servers are configured",
			Message: "applies only to standalone appliances", Refs: refs, Remediation: "Configure NTP.",
		},
		{
			CheckID: "ESXI-VM-ENC-01", Title: "VM home and disks are encrypted", Area: "vm-encryption",
			Severity: findings.SeverityMedium, Status: findings.StatusPass, Target: "esx01.lab",
			Object: findings.ObjectRef{Kind: "vm", ID: "4210a3c1-0001", Name: "web01"},
			Evidence: []findings.Evidence{
				{Field: "vm.encryption.all_disks", Observed: true, Source: "config.keyId"},
			},
			Expected: "every disk and the VM home are encrypted", Message: "all 2 disks are encrypted",
			Refs: refs, Remediation: "Apply a VM encryption storage policy.",
		},
		{
			CheckID: "ESXI-HOST-ACC-01", Title: "The SSH service is stopped and disabled", Area: "host-access",
			Threats:  []string{"management-plane-exposure", "privilege-elevation"},
			Severity: findings.SeverityCritical, Status: findings.StatusFail, Target: "esx01.lab",
			Object: findings.ObjectRef{Kind: "host", ID: "host-21", Name: "esx01.lab"},
			Evidence: []findings.Evidence{
				{Field: "host.services.ssh.running", Observed: true, Source: `HostServiceSystem.serviceInfo.service["TSM-SSH"].running`},
				{Field: "host.services.ssh.policy", Observed: "on", Source: `HostServiceSystem.serviceInfo.service["TSM-SSH"].policy`},
			},
			Expected: "running is false and the policy is off",
			Message:  "SSH is running and starts with the host",
			Refs:     findings.Refs{STIG: []string{"ESXI-80-000193"}, SCG: []string{"esxi-8.shell-ssh-disable"}, NIST80053: []string{"CM-7"}},
			Remediation: "Stop the TSM-SSH service and set its startup policy to \"Start and stop manually\".\n" +
				"In PowerCLI: Get-VMHost | Get-VMHostService | Where-Object {$_.Key -eq 'TSM-SSH'} | Set-VMHostService -Policy Off; then stop it.",
		},
		{
			CheckID: "ESXI-HOST-PATCH-01", Title: "The host runs a build with every security fix", Area: "patch",
			Severity: findings.SeverityHigh, Status: findings.StatusError, Target: "esx01.lab",
			Object: findings.ObjectRef{Kind: "host", ID: "host-21", Name: "esx01.lab"},
			Evidence: []findings.Evidence{
				{Field: "host.patch.release_line", Observed: nil, Source: "config.product.build"},
			},
			Expected: "build >= the advisory's fixed build for the release line",
			Message:  "host.patch.release_line is absent: the product build could not be read (permission denied on config.product)",
			Refs:     refs, Remediation: "Patch the host to the fixed build named by the advisory.",
		},
		{
			CheckID: "ESXI-HOST-LOG-01", Title: "Logs are sent to a remote syslog server", Area: "logging",
			Severity: findings.SeverityMedium, Status: findings.StatusFail, Target: "esx01.lab",
			Object: findings.ObjectRef{Kind: "host", ID: "host-21", Name: "esx01.lab"},
			Evidence: []findings.Evidence{
				{Field: "host.logging.remote_hosts", Observed: []any{}, Source: "Syslog.global.logHost"},
			},
			Expected: "at least one remote log host", Message: "no remote log host is configured",
			Refs: refs, Remediation: "Set Syslog.global.logHost to the site's collector.",
			Waiver: &findings.Waiver{CheckID: "ESXI-HOST-LOG-01", Target: "esx01.lab", Justification: "Collector is being replaced",
				Approver: "CISO office", Expires: "2026-01-31", Expired: true},
		},
		{
			CheckID: "ESXI-VM-MIG-01", Title: "vMotion of the VM is encrypted", Area: "migration-encryption",
			Threats:  []string{"live-migration-interception"},
			Severity: findings.SeverityHigh, Status: findings.StatusWaived, ObservedStatus: findings.StatusFail, Target: "esx01.lab",
			Object: findings.ObjectRef{Kind: "vm", ID: "4210a3c1-0001", Name: "web01"},
			Evidence: []findings.Evidence{
				{Field: "vm.migration.encryption", Observed: "disabled", Source: "config.migrateEncryption"},
			},
			Expected:    "migrateEncryption is one of {required, opportunistic}",
			Message:     "vMotion encryption is disabled",
			Refs:        findings.Refs{STIG: []string{"VMCH-80-000203"}, SCG: []string{"vm-8.vmotion-encrypted"}, NIST80053: []string{"SC-8"}},
			Remediation: "Set the VM's encrypted vMotion option to Required.",
			Waiver: &findings.Waiver{CheckID: "ESXI-VM-MIG-01", Object: "web01",
				Justification: "Legacy appliance; the vendor does not support encrypted vMotion until 9.2, planned for Q3.",
				Approver:      "J. Rivera (risk board)", Expires: "2026-09-30"},
		},
		{
			CheckID: "ESXI-VM-ENC-01", Title: "VM home and disks are encrypted", Area: "vm-encryption",
			Severity: findings.SeverityMedium, Status: findings.StatusFail, Target: "esx01.lab",
			Object: findings.ObjectRef{Kind: "vm", ID: "4210a3c1-0002", Name: "db01"},
			Evidence: []findings.Evidence{
				{Field: "vm.encryption.all_disks", Observed: false, Source: "config.hardware.device[VirtualDisk].backing.keyId"},
				{Field: "vm.encryption.unencrypted_disks", Observed: []any{"[ds-prod-01] db01/db01.vmdk", "[ds-prod-01] db01/db01_1.vmdk"},
					Source: "config.hardware.device[VirtualDisk].backing.fileName where backing.keyId is unset"},
			},
			Expected: "every disk and the VM home are encrypted",
			Message:  "2 of 2 disks are not encrypted",
			Refs:     refs, Remediation: "Apply a VM encryption storage policy to the VM and its disks.",
		},
		{
			CheckID: "ESXI-VM-CON-01", Title: "The VM's VNC console is disabled", Area: "console",
			Severity: findings.SeverityLow, Status: findings.StatusFail, Target: "esx01.lab",
			Object: findings.ObjectRef{Kind: "vm", ID: "4210a3c1-0003", Name: "evil\x1b]0;pwned\x07vm"},
			Evidence: []findings.Evidence{
				{Field: "vm.console.vnc_enabled", Observed: true, Source: `config.extraConfig["RemoteDisplay.vnc.enabled"]`},
			},
			Expected: "RemoteDisplay.vnc.enabled is false or unset", Message: "VNC is enabled on port 5901",
			Refs: refs, Remediation: "Remove RemoteDisplay.vnc.enabled from the VM's advanced settings.",
		},
		{
			CheckID: "ESXI-VM-TOOLS-01", Title: "VMware Tools is current", Area: "isolation",
			Severity: findings.SeverityInfo, Status: findings.StatusNotApplicable, Target: "esx01.lab",
			Object:   findings.ObjectRef{Kind: "vm", ID: "4210a3c1-0004", Name: "tmpl-base"},
			Evidence: []findings.Evidence{}, Expected: "tools status is current",
			Message: "templates are not checked", Refs: refs, Remediation: "Upgrade VMware Tools.",
		},
		{
			CheckID: "ESXI-NET-MGMT-01", Title: "Management traffic is on a dedicated port group", Area: "management-network",
			Severity: findings.SeverityHigh, Status: findings.StatusPass, Target: "esx01.lab",
			Object: findings.ObjectRef{Kind: "network", ID: "network-13", Name: "Management Network"},
			Evidence: []findings.Evidence{
				{Field: "network.vmkernel_services", Observed: map[string]any{"vmk0": []any{"management"}}, Source: "config.network.vnic[].spec"},
			},
			Expected: "only VMkernel management interfaces", Message: "only vmk0 (management)",
			Refs: refs, Remediation: "Move VM traffic off the management port group.",
		},
		{
			CheckID: "ESXI-TGT-TLS-01", Title: "hvaudit verified the target's TLS certificate", Area: "audit-transport",
			Severity: findings.SeverityCritical, Status: findings.StatusFail, Target: "esx01.lab",
			Object: findings.ObjectRef{Kind: "target", ID: "esx01.lab", Name: "esx01.lab"},
			Evidence: []findings.Evidence{
				{Field: "target.tls.verified", Observed: false, Source: "hvaudit --insecure"},
			},
			Expected: "the certificate is verified (--ca-file or --thumbprint)",
			Message:  "the audit ran with --insecure; anyone on the path could have answered for the host",
			Refs:     refs, Remediation: "Pass --ca-file with the site's CA, or pin the certificate with --thumbprint.",
		},
		{
			CheckID: "VC-TGT-LOG-01", Title: "vCenter events are kept for at least 30 days", Area: "logging",
			Severity: findings.SeverityLow, Status: findings.StatusWaived, ObservedStatus: findings.StatusError, Target: "vc01",
			Object: findings.ObjectRef{Kind: "target", ID: "vc01", Name: "vc01"},
			Evidence: []findings.Evidence{
				{Field: "target.logging.event_max_age_days", Observed: nil, Source: `OptionManager.setting["event.maxAge"]`},
			},
			Expected: ">= params.event_retention_days (30)",
			Message:  "target.logging.event_max_age_days is absent: OptionManager not readable with this role",
			Refs:     refs, Remediation: "Set event.maxAge to 30 or more.",
			Waiver: &findings.Waiver{CheckID: "VC-TGT-LOG-01", Target: "vc01", Justification: "Retention is enforced by the SIEM.",
				Expires: "2026-12-31"},
		},
	}

	run := &Run{
		Schema: Schema,
		Tool:   Tool{Name: "hvaudit", Version: "0.4.0"},
		Run: RunInfo{
			ID:              "0f8e3a52-6c1d-4b7e-9a34-5d2c7e1f9b60",
			Started:         started,
			Finished:        started.Add(42*time.Second + 400*time.Millisecond),
			Baseline:        BaselineInfo{ID: "hvaudit-esxi", Version: "2026.03", SHA256: sha('a')},
			WaiversSHA256:   sha('b'),
			TailoringSHA256: sha('c'),
			Advisories:      AdvisoriesInfo{AsOf: "2026-03-01", SHA256: sha('d')},
		},
		Targets: []TargetResult{
			{
				Name: "esx01.lab", URI: "vsphere://auditor@esx01.lab", Platform: "esxi",
				Product: "VMware ESXi", Version: "8.0.3", Build: "24022510",
				Status: TargetOK, CollectedAt: &collected,
				Gaps:      []inventory.Gap{{Object: "host:host-21", Field: "host.patch.release_line", Reason: "permission denied on config.product"}},
				Collector: CollectorInfo{DurationMS: 3870, Calls: 9},
			},
			{
				Name: "kvm01", URI: "qemu+tls://kvm01.lab/system", Platform: "kvm",
				Status: TargetError, Error: "connecting to qemu+tls://kvm01.lab/system: dial tcp 10.0.0.5:16514: connect: connection refused",
				Collector: CollectorInfo{DurationMS: 5001, Calls: 1},
			},
			{
				Name: "vc01", URI: "vsphere://auditor@vc01.lab", Platform: "esxi",
				Product: "VMware vCenter Server", Version: "8.0.3", Build: "24322831",
				Status: TargetOK, CollectedAt: &collected,
				Collector: CollectorInfo{DurationMS: 2210, Calls: 7},
			},
		},
		Findings: fs,
	}
	run.Summary = summarize(fs, []string{"kvm01"})
	return run
}

// summarize scores findings the way DESIGN.md §4 defines, so the fixture's
// summary is consistent with its findings. Scoring proper is the checks
// package's job; this is only the fixture's arithmetic.
func summarize(fs []findings.Finding, failedTargets []string) findings.Summary {
	type acc struct {
		passed, total, passedNW, totalNW int
		counts                           findings.Counts
	}
	add := func(a *acc, f findings.Finding) {
		w := f.Severity.Weight()
		tally := func(st findings.Status, passed, total *int) {
			switch st {
			case findings.StatusPass:
				*passed += w
				*total += w
			case findings.StatusFail, findings.StatusError:
				*total += w
			}
		}
		tally(f.Status, &a.passed, &a.total)
		observed := f.Status
		if f.Status == findings.StatusWaived {
			observed = f.ObservedStatus
		}
		tally(observed, &a.passedNW, &a.totalNW)
		switch f.Status {
		case findings.StatusPass:
			a.counts.Pass++
		case findings.StatusFail:
			a.counts.Fail++
		case findings.StatusError:
			a.counts.Error++
		case findings.StatusNotApplicable:
			a.counts.NotApplicable++
		case findings.StatusWaived:
			a.counts.Waived++
		}
	}
	score := func(passed, total int) *float64 {
		if total == 0 {
			return nil
		}
		return ptr(float64(passed) * 100 / float64(total))
	}
	toScore := func(a *acc) findings.Score {
		return findings.Score{Score: score(a.passed, a.total), ScoreWithoutWaivers: score(a.passedNW, a.totalNW), Counts: a.counts}
	}
	all := &acc{}
	by := map[string]map[string]*acc{"target": {}, "area": {}, "severity": {}, "threat": {}}
	for _, th := range findings.Threats {
		by["threat"][th] = &acc{}
	}
	for _, f := range fs {
		add(all, f)
		for kind, key := range map[string]string{"target": f.Target, "area": f.Area, "severity": string(f.Severity)} {
			if by[kind][key] == nil {
				by[kind][key] = &acc{}
			}
			add(by[kind][key], f)
		}
		for _, th := range f.Threats {
			add(by["threat"][th], f)
		}
	}
	out := func(kind string) map[string]findings.Score {
		m := map[string]findings.Score{}
		for k, a := range by[kind] {
			m[k] = toScore(a)
		}
		return m
	}
	s := findings.Summary{
		Score: score(all.passed, all.total), ScoreWithoutWaivers: score(all.passedNW, all.totalNW),
		Complete: len(failedTargets) == 0 && all.counts.Error == 0,
		Counts:   all.counts, ByTarget: out("target"), ByArea: out("area"), BySeverity: out("severity"),
		ByThreat: out("threat"),
	}
	return s
}
