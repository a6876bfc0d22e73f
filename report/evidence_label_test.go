package report

import (
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
)

func TestEvidenceLabelAndKey(t *testing.T) {
	for _, c := range []struct{ field, label, key string }{
		{`vm.migration.encryption`, "VM › migration › encryption", "encryption"},
		{`vm.nics.map(n, n.on_management_network)`, "VM › NICs › on management network (each)", "on_management_network"},
		{`host.kvm.daemons.map(d, d.tls_allowed_dn_list)`, "Host › KVM › libvirt daemons › TLS allowed DN list (each)", "tls_allowed_dn_list"},
		{`host.options["Net.BMCNetworkEnable"]`, "Host › advanced setting Net.BMCNetworkEnable", "Net.BMCNetworkEnable"},
		{`host.services["TSM-SSH"]`, "Host › service TSM-SSH", "TSM-SSH"},
		{`host.kvm.qemu.migrate_tls_x509_verify`, "Host › KVM › qemu.conf › migrate TLS X.509 verify", "migrate_tls_x509_verify"},
		{`patch.missing_cves`, "Patch level › missing CVEs", "missing_cves"},
		{`patch.eol`, "Patch level › end of life", "eol"},
		{`network.kind`, "Network › type", "kind"},
		{`vm.snapshots.size()`, "VM › snapshots › count", "vm.snapshots.size()"},
		{`vm.settings['a.b']`, "VM › settings a.b", "a.b"},
		// Syntax the labeller does not know is shown as it is.
		{`vm.nics.all(n, n.connected)`, `vm.nics.all(n, n.connected)`, `vm.nics.all(n, n.connected)`},
		{`size(vm.disks)`, `size(vm.disks)`, `size(vm.disks)`},
		{`host.options[`, `host.options[`, `options[`},
		{`tenant.name`, `tenant.name`, `name`},
	} {
		if got := evidenceLabel(c.field); got != c.label {
			t.Errorf("evidenceLabel(%s) = %q, want %q", c.field, got, c.label)
		}
		if got := evidenceKey(c.field); got != c.key {
			t.Errorf("evidenceKey(%s) = %q, want %q", c.field, got, c.key)
		}
	}
}

func TestMessageBeyondEvidence(t *testing.T) {
	ev := []findings.Evidence{
		{Field: "vm.nics.map(n, n.network)", Observed: []any{"Management", "VM Network"}},
		{Field: "vm.template", Observed: false},
	}
	for _, c := range []struct {
		msg, want string
		ev        []findings.Evidence
	}{
		// The engine's restatement goes; a note after it stays.
		{`observed vm.nics.map(n, n.network) = ["Management","VM Network"], vm.template = false`, "", ev},
		{`observed vm.nics.map(n, n.network) = ["Management","VM Network"], vm.template = false (advisory data not verified against the vendor text: VMSA-1)`,
			"(advisory data not verified against the vendor text: VMSA-1)", ev},
		{`observed patch.build = 24022510`, "", []findings.Evidence{{Field: "patch.build", Observed: "24022510"}}},
		{`observed x = null`, "", []findings.Evidence{{Field: "x"}}},
		// Anything else is the message itself.
		{`observed vm.template = true`, `observed vm.template = true`, ev},
		{`vm.migration was not collected: denied`, `vm.migration was not collected: denied`, ev},
		{`observed a = 1`, `observed a = 1`, nil},
	} {
		if got := messageBeyondEvidence(findings.Finding{Message: c.msg, Evidence: c.ev}); got != c.want {
			t.Errorf("messageBeyondEvidence(%q) = %q, want %q", c.msg, got, c.want)
		}
	}
}
