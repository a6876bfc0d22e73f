package libvirt

import (
	"testing"

	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
)

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
		vm := inventorytest.VM(t, inv, name)
		got := func(field, want, have string) {
			if want != "" && want != have {
				t.Errorf("%s: %s = %s, want %s", name, field, have, want)
			}
		}
		if vm.Encryption == nil {
			t.Errorf("%s: no encryption facts", name)
			continue
		}
		got("encryption.confidential", e.confidential, inventorytest.Show(vm.Encryption.Confidential))
		got("encryption.all_disks", e.allDisks, inventorytest.Show(vm.Encryption.AllDisks))
		if vm.Console == nil {
			t.Errorf("%s: console unknown", name)
		} else {
			got("console.exposed", e.exposed, inventorytest.Show(&vm.Console.Exposed))
			got("console.tls", e.tls, inventorytest.Show(&vm.Console.TLS))
			if withPasswords {
				got("console.password_set", e.passwordSet, inventorytest.Show(&vm.Console.PasswordSet))
			}
		}
		got("kvm.unconfined", e.unconfined, inventorytest.Show(&vm.KVM.Unconfined))
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
