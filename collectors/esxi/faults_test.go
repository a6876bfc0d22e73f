package esxi

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
)

// Faults a long collection meets on real vCenters, injected by the
// simulated server (esxisim.Faults), each survived or reported precisely.
// Pages are small so a collection of the Legacy estate takes several.

const faultPage = 3

func countMethod(sim *esxisim.Sim, name string) int {
	n := 0
	for _, m := range sim.Methods() {
		if m == name {
			n++
		}
	}
	return n
}

// cleanInventory collects the estate again once the faults are spent, to
// compare with what the faulty collection read.
func cleanInventory(t *testing.T, sim *esxisim.Sim) string {
	t.Helper()
	_, inv := fetchNormalize(t, New(Options{PageSize: faultPage}), pinned(sim))
	return inventoryJSON(t, inv)
}

// TestSessionExpiresMidRun: the session ends on page 3; hvaudit logs in
// once more, reads everything again and gets what a clean run gets. A
// second expiry in the same run is not chased: it ends the target.
func TestSessionExpiresMidRun(t *testing.T) {
	sim := startEstate(t, esxisim.Legacy(), esxisim.Options{Faults: esxisim.Faults{ExpireSessionAtPages: []int{3}}})
	snap, inv := fetchNormalize(t, New(Options{PageSize: faultPage}), pinned(sim))
	if n := countMethod(sim, "Login"); n != 2 {
		t.Errorf("%d logins, want 2 (one re-login)", n)
	}
	d, _ := decodeData(snap.Data)
	if len(d.Recovered) != 1 || !strings.Contains(d.Recovered[0], "the session ended during collection (ServerFaultCode: NotAuthenticated)") {
		t.Errorf("recovered %q", d.Recovered)
	}
	if inventoryJSON(t, inv) != cleanInventory(t, sim) {
		t.Errorf("the inventory after a re-login differs from a clean run's")
	}

	twice := startEstate(t, esxisim.Legacy(), esxisim.Options{Faults: esxisim.Faults{ExpireSessionAtPages: []int{3, 6}}})
	_, err := New(Options{PageSize: faultPage}).Fetch(context.Background(), pinned(twice))
	if err == nil || !strings.Contains(err.Error(), "NotAuthenticated") || countMethod(twice, "Login") != 2 {
		t.Errorf("a second expiry: %v after %d logins; want a NotAuthenticated error after 2", err, countMethod(twice, "Login"))
	}
}

// TestConnectionResetMidPage: the connection is cut halfway through page 3
// after the server moved past it; the retrieval is redone from the start
// (continuing would skip the lost page) and matches a clean run.
func TestConnectionResetMidPage(t *testing.T) {
	sim := startEstate(t, esxisim.Legacy(), esxisim.Options{Faults: esxisim.Faults{ResetAtPages: []int{3}}})
	snap, inv := fetchNormalize(t, New(Options{PageSize: faultPage}), pinned(sim))
	if n := countMethod(sim, "RetrievePropertiesEx"); n != 4 {
		t.Errorf("%d RetrievePropertiesEx calls, want 4 (the inventory twice, the managers and the security pass once)", n)
	}
	if inventoryJSON(t, inv) != cleanInventory(t, sim) {
		t.Errorf("the inventory after a reset differs from a clean run's")
	}
	d, _ := decodeData(snap.Data)
	if len(d.Recovered) != 1 || !strings.Contains(d.Recovered[0], "the connection broke during collection") {
		t.Errorf("recovered %q", d.Recovered)
	}

	twice := startEstate(t, esxisim.Legacy(), esxisim.Options{Faults: esxisim.Faults{ResetAtPages: []int{3, 6}}})
	_, err := New(Options{PageSize: faultPage}).Fetch(context.Background(), pinned(twice))
	if err == nil || !strings.Contains(err.Error(), "EOF") {
		t.Errorf("a second reset: %v, want the broken connection as the target's error", err)
	}
}

// TestPageSlowerThanTimeout: a page that takes longer than the target's
// time ends the collection at the deadline with that reason, and the
// session is still logged out.
func TestPageSlowerThanTimeout(t *testing.T) {
	// Login and page 1 must fit the deadline; under the race detector
	// they take several times longer.
	deadline := 500 * time.Millisecond
	if raceDetector {
		deadline = 3 * time.Second
	}
	sim := startEstate(t, esxisim.Legacy(), esxisim.Options{Faults: esxisim.Faults{SlowPage: 2, SlowPageDelay: 4 * deadline}})
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	_, err := New(Options{PageSize: faultPage}).Fetch(ctx, pinned(sim))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "reading page 2 of a property retrieval") {
		t.Fatalf("slow page: %v", err)
	}
	if d := time.Since(start); d > 3*deadline {
		t.Errorf("the collection waited %v for a page past its deadline", d)
	}
	if !slices.Contains(sim.Methods(), "Logout") {
		t.Errorf("no Logout after the timeout: %v", sim.Methods())
	}
}

// TestNoPermissionOnOneProperty: a property the account may not read costs
// that property on every object, with the fault and the privilege, and
// nothing else.
func TestNoPermissionOnOneProperty(t *testing.T) {
	deny := &esxisim.DeniedProperty{Type: "HostSystem", Path: "config.service", Privilege: "Host.Config.Settings"}
	sim := startEstate(t, esxisim.Legacy(), esxisim.Options{Faults: esxisim.Faults{Deny: deny}})
	_, inv := fetchNormalize(t, New(Options{PageSize: faultPage}), pinned(sim))
	h := inventorytest.Host(t, inv, "esx701-01.lab.example.net")
	if h.Services != nil {
		t.Errorf("services read despite NoPermission: %v", h.Services)
	}
	want := "HostSystem config.service could not be read: NoPermission (the audit account lacks privilege Host.Config.Settings): Permission to perform this operation was denied."
	if g, _ := inventorytest.Gap(inv.Gaps, "host:"+h.ID, "host.services"); g.Reason != want {
		t.Errorf("services gap %q\nwant %q", g.Reason, want)
	}
	if h.Options == nil || h.LockdownMode == nil || h.Firewall == nil || h.Management == nil || len(inv.VMs) != 6 {
		t.Errorf("other properties lost: %+v", h)
	}
}

// TestCAFile: --ca-file verifies the server against that CA: the server's
// own CA connects (recorded as verified by "ca"); another CA is refused.
func TestCAFile(t *testing.T) {
	sim := startEstate(t, esxisim.Legacy(), esxisim.Options{Standalone: true})
	dir := t.TempDir()
	good := filepath.Join(dir, "server-ca.pem")
	if err := os.WriteFile(good, sim.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := New(Options{}).Fetch(context.Background(), target(sim, collectors.TLSOptions{CAFile: good}))
	if err != nil {
		t.Fatalf("the server's own CA: %v", err)
	}
	if tr := snap.Target.Transport; !tr.TLSVerified || tr.Method != "ca" {
		t.Errorf("transport %+v", tr)
	}
	other := filepath.Join(dir, "other-ca.pem")
	if err := os.WriteFile(other, unrelatedCA(t), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = New(Options{}).Fetch(context.Background(), target(sim, collectors.TLSOptions{CAFile: other}))
	if err == nil || !strings.Contains(err.Error(), "is not trusted") {
		t.Errorf("a CA that did not sign the server's certificate: %v, want it refused", err)
	}
}

// unrelatedCA is a CA certificate that signed nothing the simulator presents.
func unrelatedCA(t *testing.T) []byte {
	t.Helper()
	ca, err := esxisim.UnrelatedCA()
	if err != nil {
		t.Fatal(err)
	}
	return ca
}
