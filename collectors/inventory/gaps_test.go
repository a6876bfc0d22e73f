package inventory

import (
	"strings"
	"testing"
)

func TestGapsAdd(t *testing.T) {
	var g Gaps
	g.Add(KindVM, "42", "vm.migration.encryption", "VirtualMachine config.migrateEncryption not returned by the server")
	g.AddSince(KindHost, "*", "host.secure_boot", "not available before vSphere API 8.0.3", "8.0.3")
	want := Gaps{
		{Object: "vm:42", Field: "vm.migration.encryption", Reason: "VirtualMachine config.migrateEncryption not returned by the server"},
		{Object: "host:*", Field: "host.secure_boot", Reason: "not available before vSphere API 8.0.3", Since: "8.0.3"},
	}
	if len(g) != len(want) || g[0] != want[0] || g[1] != want[1] {
		t.Errorf("gaps = %+v, want %+v", g, want)
	}
}

// A gap without a reason would reach every finding it explains as "the
// collector recorded no reason": Add refuses it loudly.
func TestGapsAddRefusesAnEmptyReason(t *testing.T) {
	for _, reason := range []string{"", " \t\n"} {
		func() {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, "vm:42 vm.nics has no reason") {
					t.Errorf("reason %q: recovered %v", reason, r)
				}
			}()
			var g Gaps
			g.Add(KindVM, "42", "vm.nics", reason)
			t.Errorf("reason %q: Add recorded %+v", reason, g)
		}()
	}
}

func TestGapIndexFor(t *testing.T) {
	var g Gaps
	g.Add(KindVM, "1", "vm.migration", "migration not read")
	g.Add(KindVM, "1", "vm.migration.encryption", "encryption not read")
	g.Add(KindVM, "2", "vm.console.tls", "tls not read")
	g.Add(KindVM, "*", "vm.nics", "adapters not read")
	g.Add(KindHost, "h", `host.options.Mem.ShareForceSalting`, "option not read")
	g.Add(KindHost, "h", "host.services", "services not read")
	x := g.Index()
	for _, c := range []struct {
		kind, id, path, want string
	}{
		// The most specific gap at or above the path wins.
		{KindVM, "1", "vm.migration.encryption", "encryption not read"},
		{KindVM, "1", "vm.migration.encryption.mode", "encryption not read"},
		{KindVM, "1", "vm.migration.ft_encryption", "migration not read"},
		// Else one below it: the expression stopped short of the gap's field.
		{KindVM, "2", "vm.console", "tls not read"},
		// kind:* holds for every object of the kind; indices do not matter.
		{KindVM, "2", "vm.nics[3].mac", "adapters not read"},
		{KindVM, "*", "vm.nics", "adapters not read"},
		// A map key is a path segment.
		{KindHost, "h", `host.options["Mem.ShareForceSalting"]`, "option not read"},
		{KindHost, "h", `host.services["TSM-SSH"].running`, "services not read"},
		// Another object's gap, or a sibling field's, explains nothing.
		{KindVM, "3", "vm.migration", ""},
		{KindVM, "1", "vm.migrationx", ""},
		{KindHost, "other", "host.services", ""},
		{KindNetwork, "*", "network.vlan", ""},
	} {
		got := ""
		if gap := x.For(c.kind, c.id, c.path); gap != nil {
			got = gap.Reason
		}
		if got != c.want {
			t.Errorf("For(%s, %s, %s) = %q, want %q", c.kind, c.id, c.path, got, c.want)
		}
	}
}

func TestSourceOf(t *testing.T) {
	inv := &Inventory{Sources: map[string]string{
		"vm":                      "VirtualMachine",
		"vm.migration.encryption": "VirtualMachine config.migrateEncryption",
		"host.options":            "HostSystem config.option",
	}}
	for path, want := range map[string]string{
		"vm.migration.encryption":          "VirtualMachine config.migrateEncryption",
		"vm.migration":                     "VirtualMachine",
		`host.options["Mem.ShareForce"]`:   "HostSystem config.option",
		"vm.nics[0].on_management_network": "VirtualMachine",
		"network.vlan":                     "",
	} {
		if got := inv.SourceOf(path); got != want {
			t.Errorf("SourceOf(%s) = %q, want %q", path, got, want)
		}
	}
}
