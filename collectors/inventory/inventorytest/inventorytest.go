// Package inventorytest holds what every collector's tests need to read
// an inventory: objects by name, the gap recorded on a field, and pointer
// fields shown as text.
package inventorytest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Host returns the host named name, failing the test when there is none.
func Host(t testing.TB, inv *inventory.Inventory, name string) inventory.Host {
	t.Helper()
	for _, h := range inv.Hosts {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("no host %q in the inventory", name)
	return inventory.Host{}
}

// VM returns the VM named name, failing the test when there is none.
func VM(t testing.TB, inv *inventory.Inventory, name string) inventory.VM {
	t.Helper()
	for _, v := range inv.VMs {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no VM %q in the inventory", name)
	return inventory.VM{}
}

// Network returns the network named name, failing the test when there is
// none.
func Network(t testing.TB, inv *inventory.Inventory, name string) inventory.Network {
	t.Helper()
	for _, n := range inv.Networks {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no network %q in the inventory", name)
	return inventory.Network{}
}

// Gap returns the first gap on object ("vm:<id>", "host:*") for exactly
// field.
func Gap(gaps inventory.Gaps, object, field string) (inventory.Gap, bool) {
	for _, g := range gaps {
		if g.Object == object && g.Field == field {
			return g, true
		}
	}
	return inventory.Gap{}, false
}

// Reason is the reason of the first gap on object for exactly field, ""
// when there is none.
func Reason(gaps inventory.Gaps, object, field string) string {
	g, _ := Gap(gaps, object, field)
	return g.Reason
}

// ReasonUnder is the reason of the first gap on object whose field begins
// with prefix ("vm.hyperv" finds one on "vm.hyperv.ports"), "" when there
// is none.
func ReasonUnder(gaps inventory.Gaps, object, prefix string) string {
	for _, g := range gaps {
		if g.Object == object && strings.HasPrefix(g.Field, prefix) {
			return g.Reason
		}
	}
	return ""
}

// Show prints an optional field: "nil" when absent, else its value
// (true, 42, "text" as text).
func Show[T any](p *T) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}
