package collectors_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors"
	_ "github.com/hvaudit/hvaudit/collectors/all"
)

// An unknown scheme gets the URI hvaudit would take, not a list of every
// scheme: other tools' habits are mapped, typos corrected, and nothing
// close gets one line per platform.
func TestForURISuggests(t *testing.T) {
	for _, c := range []struct{ uri, want string }{
		{"https://vc01/sdk", `target "https://vc01/sdk": no collector for scheme "https"; did you mean vsphere://vc01?`},
		{"https://administrator@vsphere.local@vc01.example.com/sdk", "did you mean vsphere://administrator%40vsphere.local@vc01.example.com?"},
		{"http://auditor@esx01:443", "did you mean vsphere://auditor@esx01:443?"},
		{"vshpere://auditor@vc01", "did you mean vsphere://auditor@vc01?"},
		{"libvirt:///system", "did you mean qemu:///system?"},
		{"ssh://root@kvm01", "did you mean qemu+ssh://root@kvm01/system?"},
		{"winrm://auditor@hv01", "did you mean hyperv://auditor@hv01?"},
		{"hyprev://hv01", "did you mean hyperv://hv01?"},
		{"ftp://x", `no collector for scheme "ftp"; use vsphere://[user@]host for vCenter or ESXi, qemu:///system`},
	} {
		_, err := collectors.ForURI(c.uri)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want it to contain %q", c.uri, err, c.want)
		}
		if err != nil && strings.Count(err.Error(), "://") > 6 {
			t.Errorf("%s: the message lists schemes: %v", c.uri, err)
		}
	}
	// A password in the foreign URI is neither echoed nor carried over.
	_, err := collectors.ForURI("https://root:hunter2@vc01/sdk")
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "did you mean vsphere://root@vc01?") {
		t.Errorf("password in a foreign URI: %v", err)
	}
}

// Schemes lists only what is audited: libvirt's other drivers are
// recognised (their targets end as a "not supported yet" error) but not
// offered.
func TestSchemesListsOnlyAudited(t *testing.T) {
	// The package's own tests may register a fake scheme in this process.
	got := slices.DeleteFunc(collectors.Schemes(), func(s string) bool { return s == "fake-scheme" })
	want := []string{"esxi", "hyperv", "qemu", "qemu+ext", "qemu+libssh", "qemu+libssh2", "qemu+ssh", "qemu+tcp", "qemu+tls", "qemu+unix", "test", "vcenter", "vsphere"}
	if !slices.Equal(got, want) {
		t.Errorf("Schemes() = %v, want %v", got, want)
	}
	if c, err := collectors.ForURI("xen:///system"); err != nil || c.Platform() != "kvm" {
		t.Errorf("xen:// no longer reaches the libvirt collector: %v", err)
	}
}
