package collectors

import (
	"context"

	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

func TestSecretRedactsEverywhere(t *testing.T) {
	s := NewSecret("hunter2-very-secret")
	type wrapper struct {
		P Secret `json:"p"`
	}
	j, err := json.Marshal(wrapper{s})
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s),
		fmt.Sprintf("%+v", Target{URI: "vsphere://a@b", Password: s}),
		fmt.Sprintf("%#v", Target{URI: "vsphere://a@b", Password: s}),
		string(j),
	}
	for _, o := range outs {
		if strings.Contains(o, "hunter2") {
			t.Errorf("secret leaked: %s", o)
		}
		if !strings.Contains(o, "REDACTED") {
			t.Errorf("redaction marker missing: %s", o)
		}
	}
	if s.Reveal() != "hunter2-very-secret" {
		t.Error("Reveal lost the value")
	}
}

func TestParseTargetURIRefusesPasswords(t *testing.T) {
	if _, err := ParseTargetURI("vsphere://root:topsecret@esx01"); err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("URI with password: err %v", err)
	}
	if _, err := ParseTargetURI("vsphere://root@esx01:443"); err != nil {
		t.Errorf("plain URI refused: %v", err)
	}
	if got := Redact("vsphere://root:topsecret@esx01"); strings.Contains(got, "topsecret") {
		t.Errorf("Redact kept the password: %s", got)
	}
}

func TestThumbprintHelpers(t *testing.T) {
	if got := NormalizeThumbprint(" ab:cd-ef 01 "); got != "ABCDEF01" {
		t.Errorf("NormalizeThumbprint = %q", got)
	}
	if got := ColonHex("ABCDEF"); got != "AB:CD:EF" {
		t.Errorf("ColonHex = %q", got)
	}
}

type fakeCollector struct{ platform string }

func (f fakeCollector) Platform() string { return f.platform }
func (fakeCollector) Fetch(_ context.Context, _ Target) (*Snapshot, error) {
	return nil, nil
}
func (fakeCollector) Normalize(*Snapshot) (*inventory.Inventory, error) { return nil, nil }

func TestRegistry(t *testing.T) {
	Register(fakeCollector{"fake"}, "fake-scheme")
	c, err := ForURI("FAKE-SCHEME://host")
	if err != nil || c.Platform() != "fake" {
		t.Fatalf("ForURI: %v %v", c, err)
	}
	if _, err := ForURI("nope://host"); err == nil || !strings.Contains(err.Error(), "use vsphere://[user@]host for vCenter or ESXi") {
		t.Errorf("unknown scheme error should say which URIs work: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a scheme twice did not panic")
		}
	}()
	Register(fakeCollector{"other"}, "fake-scheme")
}

// Redact never prints part of a password, even from a URI that does not
// parse and whose password holds '@'.
func TestRedactUnparseable(t *testing.T) {
	for _, raw := range []string{
		"vsphere://root:se@cr%zzet@esx01",    // invalid escape, '@' in the password
		"vsphere://root:p@ss@w%rd@esx01:443", // several '@'
		"vsphere://root:s3cr%et@esx01",
		"hyperv://adm:pa ss@hv01?auth=ntlm%",
	} {
		got := Redact(raw)
		for _, piece := range []string{"se@cr", "cr%zzet", "p@ss", "w%rd", "s3cr", "%et", "pa ss"} {
			if strings.Contains(got, piece) {
				t.Errorf("Redact(%q) = %q shows %q", raw, got, piece)
			}
		}
		if !strings.Contains(got, "[REDACTED]@") {
			t.Errorf("Redact(%q) = %q: no redaction marker", raw, got)
		}
	}
	if got := Redact("vsphere://root:se@cr%zzet@esx01"); got != "vsphere://[REDACTED]@esx01" {
		t.Errorf("Redact keeps scheme and host: %q", got)
	}
	if got := Redact("qemu:///system"); got != "qemu:///system" {
		t.Errorf("Redact changed a plain URI: %q", got)
	}
}
