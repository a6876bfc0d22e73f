package libvirt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
)

// Debian's ovmf package installs three descriptors: 40 (Secure Boot, SMM,
// Microsoft keys enrolled, q35 only), 50 (Secure Boot, SMM, empty
// variable store, q35 only) and 60 (no Secure Boot, i440fx and q35).
// testdata/hostroot holds verbatim copies (testdata/SOURCE.md).

// ovmfRoots are the host roots whose descriptors the Secure Boot cases
// run against: the copies, and the installed package when present.
func ovmfRoots(t *testing.T) []string {
	t.Helper()
	roots := []string{"testdata/hostroot"}
	installed, _ := filepath.Glob("/usr/share/qemu/firmware/*-edk2-x86_64*.json")
	if len(installed) == 0 {
		if os.Getenv("HVAUDIT_REQUIRE_OVMF") != "" {
			t.Fatal("Debian's ovmf package is not installed (apt-get install ovmf, or make deps)")
		}
		t.Log("ovmf not installed: testing against the copies only (HVAUDIT_REQUIRE_OVMF=1 makes this a failure)")
		return roots
	}
	for _, p := range installed {
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("testdata/hostroot/usr/share/qemu/firmware", filepath.Base(p)))
		if err != nil || string(got) != string(want) {
			t.Errorf("testdata copy of %s differs from the installed package (update the copy and testdata/SOURCE.md): %v", p, err)
		}
	}
	// The installed files, under a host root that has nothing else.
	root := t.TempDir()
	for _, p := range installed {
		b, _ := os.ReadFile(p)
		writeFile(t, root, "usr/share/qemu/firmware/"+filepath.Base(p), string(b))
	}
	return append(roots, root)
}

const capsMachines = `<capabilities><host><uuid>x</uuid><secmodel><model>none</model><doi>0</doi></secmodel></host>
<guest><os_type>hvm</os_type><arch name='x86_64'><wordsize>64</wordsize><emulator>/usr/bin/qemu-system-x86_64</emulator>
<machine maxCpus='255'>pc-i440fx-7.2</machine><machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>
<machine maxCpus='288'>pc-q35-7.2</machine><machine canonical='pc-q35-7.2' maxCpus='288'>q35</machine>
<domain type='qemu'/></arch></guest></capabilities>`

// secureBootOf normalizes one domain on a host root with the given
// descriptors and returns vm.secure_boot and the gap's reason.
func secureBootOf(t *testing.T, root, os string) (string, string) {
	t.Helper()
	hf := ReadHostFiles(root, false)
	d := &Data{URI: "qemu:///system", Driver: "qemu", ReadOnly: true, ConnType: "QEMU", Hostname: "h", CapabilitiesXML: capsMachines, Local: true, Host: hf,
		Domains: []DomainRecord{{Name: "fw", UUID: "5f1c0b7e-0000-4000-8000-000000000001", State: "shutoff", Tainting: []string{}, Snapshots: []SnapshotRecord{},
			XML: `<domain type='kvm'><name>fw</name><uuid>5f1c0b7e-0000-4000-8000-000000000001</uuid><memory>131072</memory>` + os + `</domain>`}}}
	inv, err := New().Normalize(snapshotOf(t, d, "qemu:///system", nil))
	if err != nil {
		t.Fatal(err)
	}
	vm := inv.VMs[0]
	if inventorytest.Show(vm.Firmware) != "efi" {
		t.Fatalf("firmware %s for %s", inventorytest.Show(vm.Firmware), os)
	}
	return inventorytest.Show(vm.SecureBoot), inventorytest.ReasonUnder(inv.Gaps, "vm:"+vm.ID, "vm.secure_boot")
}

func TestSecureBootFromDescriptors(t *testing.T) {
	cases := []struct {
		name, os, want, reason string
	}{
		// libvirt picks 40 for a q35 guest: keys enrolled.
		{"auto q35", `<os firmware='efi'><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>`, "true", ""},
		// The alias resolves through the capabilities, as libvirt does.
		{"auto q35 alias", `<os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>`, "true", ""},
		// Only 60 covers i440fx.
		{"auto i440fx", `<os firmware='efi'><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>`, "false", ""},
		// Asking for Secure Boot without enrolled keys: 50, setup mode.
		{"auto no keys", `<os firmware='efi'><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><firmware><feature enabled='yes' name='secure-boot'/><feature enabled='no' name='enrolled-keys'/></firmware></os>`, "false", ""},
		{"auto both asked", `<os firmware='efi'><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type><firmware><feature enabled='yes' name='secure-boot'/><feature enabled='yes' name='enrolled-keys'/></firmware></os>`, "true", ""},
		// secure='yes' protects the flash through SMM; this image has no
		// Secure Boot.
		{"secure=yes alone", `<os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader><nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'/></os>`, "false", ""},
		{"secboot empty vars", `<os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.secboot.fd</loader><nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'/></os>`, "false", ""},
		{"ms enrolled", `<os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader><nvram template='/usr/share/OVMF/OVMF_VARS_4M.ms.fd'/></os>`, "true", ""},
		{"enrolled, template not recorded", `<os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader></os>`, "true", ""},
		{"unknown loader", `<os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><loader readonly='yes' type='pflash'>/opt/custom/OVMF.fd</loader></os>`, "nil", "no firmware descriptor describes loader /opt/custom/OVMF.fd"},
		{"template mismatch", `<os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader><nvram template='/usr/share/OVMF/OVMF_VARS_4M.ms.fd'/></os>`, "nil", "with NVRAM template"},
		// s390 has no descriptor in this package: libvirt would not start it.
		{"no match", `<os firmware='efi'><type arch='aarch64' machine='virt-7.2'>hvm</type></os>`, "nil", "no firmware descriptor matches"},
	}
	for _, root := range ovmfRoots(t) {
		for _, c := range cases {
			got, reason := secureBootOf(t, root, c.os)
			if got != c.want || !strings.Contains(reason, c.reason) || (got == "nil") != (reason != "") {
				t.Errorf("%s (%s): secure boot %s (%q), want %s (%q)", c.name, root, got, reason, c.want, c.reason)
			}
		}
	}
}

// TestFirmwareOverrides: a same-named file in /etc/qemu/firmware replaces
// the packaged one, an empty one masks it; a descriptor that does not
// parse leaves every choice unknown.
func TestFirmwareOverrides(t *testing.T) {
	auto := `<os firmware='efi'><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>`
	root := copyTree(t, "testdata/hostroot")
	writeFile(t, root, "etc/qemu/firmware/40-edk2-x86_64-secure-enrolled.json", "")
	if got, reason := secureBootOf(t, root, auto); got != "false" {
		t.Errorf("40 masked: libvirt picks 50 (no keys), got %s %q", got, reason)
	}
	b, _ := os.ReadFile("testdata/hostroot/usr/share/qemu/firmware/60-edk2-x86_64.json")
	writeFile(t, root, "etc/qemu/firmware/10-local.json", strings.Replace(string(b), `"acpi-s3",`, `"acpi-s3", "secure-boot", "enrolled-keys",`, 1))
	if got, _ := secureBootOf(t, root, auto); got != "true" {
		t.Errorf("10-local first in order, with both features: got %s", got)
	}
	writeFile(t, root, "etc/qemu/firmware/05-broken.json", "{")
	if got, reason := secureBootOf(t, root, auto); got != "nil" || !strings.Contains(reason, "05-broken.json does not parse") {
		t.Errorf("broken descriptor: %s %q", got, reason)
	}
	// Without local access the descriptors are unknown, but a guest that
	// asks for both features gets them from libvirt or does not start.
	var gaps inventory.Gaps
	dc := &domainContext{hostCtx: hostCtx{firmwareReason: needsLocal}}
	if _, r := secureBoot(firmwareRequest{arch: "x86_64", machine: "pc-q35-7.2", features: map[string]string{}}, true, dc); !strings.Contains(r, "needs local access") {
		t.Errorf("remote auto: %q", r)
	}
	if sb, r := secureBoot(firmwareRequest{features: map[string]string{"secure-boot": "yes", "enrolled-keys": "yes"}}, true, dc); !sb || r != "" {
		t.Errorf("remote, both features asked: %v %q", sb, r)
	}
	_ = gaps
}

func TestGlobMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{{"pc-q35-*", "pc-q35-7.2", true}, {"pc-q35-*", "pc-i440fx-7.2", false}, {"virt-?.2", "virt-7.2", true}, {"*", "", true}, {"a*b*c", "axxbyyc", true}, {"a*b", "ac", false}} {
		if globMatch(c.p, c.s) != c.want {
			t.Errorf("%q ~ %q", c.p, c.s)
		}
	}
}
