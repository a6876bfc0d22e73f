package libvirt

import (
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

func vmByName(t *testing.T, inv *inventory.Inventory, name string) inventory.VM {
	t.Helper()
	for _, v := range inv.VMs {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no VM %q in inventory", name)
	return inventory.VM{}
}

func netByName(t *testing.T, inv *inventory.Inventory, name string) inventory.Network {
	t.Helper()
	for _, n := range inv.Networks {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no network %q in inventory", name)
	return inventory.Network{}
}

// gapFor returns the reason of the first gap on a field (prefix match) for
// an object key, "" when there is none.
func gapFor(inv *inventory.Inventory, object, field string) string {
	for _, g := range inv.Gaps {
		if g.Object == object && strings.HasPrefix(g.Field, field) {
			return g.Reason
		}
	}
	return ""
}

func boolp(p *bool) string {
	if p == nil {
		return "nil"
	}
	if *p {
		return "true"
	}
	return "false"
}

func strp(p *string) string {
	if p == nil {
		return "nil"
	}
	return *p
}

// expectation is what a named domain of testdata/node.xml must normalize to.
type expectation struct {
	confidential, allDisks, exposed, passwordSet, tls, unconfined, mgmt string
}

// nodeExpectations holds the named cases; passwordSet is for a
// read-write (secure XML) connection.
var nodeExpectations = map[string]expectation{
	// A SEV guest: confidential, LUKS disk, console on loopback.
	"sev-guest": {confidential: "sev", allDisks: "true", exposed: "false", passwordSet: "false", tls: "false", unconfined: "false", mgmt: "false"},
	// LUKS disk encrypted; legacy qcow encryption is not.
	"luks-guest": {confidential: "none", allDisks: "true", exposed: "false", unconfined: "false"},
	"qcow-guest": {confidential: "none", allDisks: "false", exposed: "false", unconfined: "false"},
	// VNC on 0.0.0.0 without TLS or password.
	"vnc-open":      {exposed: "true", passwordSet: "false", tls: "false", unconfined: "false"},
	"vnc-protected": {exposed: "true", passwordSet: "true", tls: "false"},
	// seclabel type='none'.
	"unconfined": {unconfined: "true", mgmt: "false"},
	// Bridged, networked (forward mode=bridge) and macvtapped onto br-mgmt.
	"mgmt-bridged":   {mgmt: "true"},
	"mgmt-network":   {mgmt: "true"},
	"mgmt-macvtap":   {mgmt: "true"},
	"isolated-guest": {mgmt: "false"},
}

// checkExpectations compares the normalized VMs with nodeExpectations.
// mgmt is true when any NIC is on the management network.
func checkExpectations(t *testing.T, inv *inventory.Inventory, withPasswords bool) {
	t.Helper()
	for name, e := range nodeExpectations {
		vm := vmByName(t, inv, name)
		got := func(field, want, have string) {
			if want != "" && want != have {
				t.Errorf("%s: %s = %s, want %s", name, field, have, want)
			}
		}
		if vm.Encryption == nil {
			t.Errorf("%s: no encryption facts", name)
			continue
		}
		got("encryption.confidential", e.confidential, strp(vm.Encryption.Confidential))
		got("encryption.all_disks", e.allDisks, boolp(vm.Encryption.AllDisks))
		if vm.Console == nil {
			t.Errorf("%s: console unknown", name)
		} else {
			got("console.exposed", e.exposed, boolp(&vm.Console.Exposed))
			got("console.tls", e.tls, boolp(&vm.Console.TLS))
			if withPasswords {
				got("console.password_set", e.passwordSet, boolp(&vm.Console.PasswordSet))
			}
		}
		got("kvm.unconfined", e.unconfined, boolp(&vm.KVM.Unconfined))
		if e.mgmt != "" {
			on := "false"
			for _, n := range vm.NICs {
				if n.OnManagementNetwork == nil {
					on = "nil"
					break
				}
				if *n.OnManagementNetwork {
					on = "true"
				}
			}
			got("nics.on_management_network", e.mgmt, on)
		}
	}
}
