package libvirt

import (
	"os"

	"path/filepath"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
)

// corpusDir holds real libvirt test XMLs, copied from libvirt's own test
// suite (testdata/corpus/SOURCE.md gives origin, checksums and licence).
const corpusDir = "testdata/corpus"

// corpusFiles lists the corpus files of one kind; the corpus is part of
// the repository, so an empty list is a failure, never a skip.
func corpusFiles(t *testing.T, sub string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(corpusDir, sub, "*.xml"))
	if len(files) == 0 {
		t.Fatalf("libvirt corpus missing: no %s/%s/*.xml", corpusDir, sub)
	}
	return files
}

// invalidDomains are the corpus files libvirt refuses, with the reason
// ParseDomainXML must give. The first seven are refused by libvirt 9.0's
// domain parser (checked by defining them on test:///default); the last
// two by the QEMU driver.
var invalidDomains = map[string]string{
	"hostdev-pci-duplicate.xml":      "hostdev pci 0000:06:12.5 is assigned twice",
	"hostdev-usb-duplicate.xml":      "hostdev usb",
	"luks-disk-invalid.xml":          "<cipher>/<ivgen> are not allowed",
	"luks-disks-source-both.xml":     "<encryption> given both on the disk and on its <source>",
	"seclabel-device-duplicates.xml": "disk hda: <seclabel> for model \"selinux\" given twice",
	"seclabel-multiple.xml":          "<seclabel> for model selinux given twice",
	"tpm-no-backend-invalid.xml":     "missing TPM device backend",
	"disk-encryption-wrong.xml":      "LUKS encryption needs a raw or qcow2 image, not vmdk",
	"net-hostdev-fail.xml":           "cannot apply to a passed-through NIC",
}

func TestCorpusDomains(t *testing.T) {
	seen := 0
	for _, f := range corpusFiles(t, "domains") {
		base := filepath.Base(f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		vm, gaps, err := NormalizeDomainXML(string(b))
		if want, bad := invalidDomains[base]; bad {
			seen++
			if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "domain ") {
				t.Errorf("%s: err = %v, want one containing %q", base, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		if vm.ID == "" || vm.Name == "" || vm.Encryption == nil || vm.KVM == nil {
			t.Errorf("%s: incomplete VM %+v", base, vm)
		}
		for _, g := range gaps {
			if g.Reason == "" || !strings.HasPrefix(g.Object, "vm:") {
				t.Errorf("%s: bad gap %+v", base, g)
			}
		}
	}
	if seen != len(invalidDomains) {
		t.Errorf("found %d of the %d invalid fixtures", seen, len(invalidDomains))
	}
}

// TestCorpusClassification checks a named subset against what the files
// say: launchSecurity → confidential, LUKS → encrypted disk, graphics
// listen → exposure.
func TestCorpusClassification(t *testing.T) {
	dir := filepath.Dir(corpusFiles(t, "domains")[0])
	cases := []struct {
		file                    string
		confidential            string // "" = don't care
		allDisks, exposed, vtpm string // "true", "false", "nil" or ""
		diskFormat              string // EncryptionFormat of the first disk
		consoleType             string
		unconfined              string
	}{
		{file: "launch-security-sev.xml", confidential: "sev"},
		{file: "launch-security-sev-direct.xml", confidential: "sev"},
		{file: "launch-security-sev-snp.xml", confidential: "sev-snp"},
		{file: "launch-security-tdx.xml", confidential: "tdx"},
		{file: "launch-security-s390-pv.xml", confidential: "s390-pv"},
		{file: "minimal.xml", confidential: "none", exposed: "false", consoleType: "none"},
		{file: "luks-disks.xml", allDisks: "true", diskFormat: "luks"},
		{file: "luks-disks-source.xml", diskFormat: "luks"},
		{file: "luks-disks-source-qcow2.xml", diskFormat: "luks"},
		{file: "encrypted-disk.xml", allDisks: "true", diskFormat: "luks"}, // legacy position, LUKS format
		{file: "domain-qemu-interface-filterref.xml", allDisks: "false"},
		{file: "disk-virtio.xml", allDisks: "false"},
		{file: "graphics-vnc.xml", exposed: "true", consoleType: "vnc"},
		{file: "graphics-vnc-socket.xml", exposed: "false", consoleType: "vnc"},
		{file: "graphics-vnc-no-listen-attr.xml", exposed: "true"}, // <listen address='2001:…'> only
		{file: "graphics-vnc-tls.xml", exposed: "false"},
		{file: "graphics-spice.xml", exposed: "false", consoleType: "spice"},
		{file: "controller-order.xml", exposed: "true", consoleType: "spice"}, // listen='0.0.0.0'
		{file: "graphics-vnc-auto-socket.xml", exposed: "false"},              // <listen type='socket'/>
		{file: "graphics-spice-no-args.xml", exposed: "nil"},                  // no listen at all: qemu.conf decides
		{file: "graphics-spice-socket.xml", exposed: "false"},
		{file: "graphics-listen-network.xml", exposed: "true"},
		{file: "graphics-sdl.xml", exposed: "false", consoleType: "none"},
		{file: "tpm-emulator-tpm2-enc.xml", vtpm: "true"},
		{file: "seclabel-none.xml", unconfined: "true"},
		{file: "seclabel-dac-none.xml", unconfined: "true"},
		{file: "seclabel-dynamic.xml", unconfined: "false"},
	}
	for _, c := range cases {
		b, err := os.ReadFile(filepath.Join(dir, c.file))
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		vm, _, err := NormalizeDomainXML(string(b))
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		check := func(what, want, got string) {
			if want != "" && want != got {
				t.Errorf("%s: %s = %s, want %s", c.file, what, got, want)
			}
		}
		check("confidential", c.confidential, inventorytest.Show(vm.Encryption.Confidential))
		check("all_disks", c.allDisks, inventorytest.Show(vm.Encryption.AllDisks))
		check("vtpm", c.vtpm, inventorytest.Show(vm.VTPM))
		check("unconfined", c.unconfined, inventorytest.Show(&vm.KVM.Unconfined))
		exposed, ctype := "nil", "nil"
		if vm.Console != nil {
			exposed, ctype = inventorytest.Show(&vm.Console.Exposed), vm.Console.Type
		}
		check("console.exposed", c.exposed, exposed)
		check("console.type", c.consoleType, ctype)
		if c.diskFormat != "" {
			if len(vm.Disks) == 0 {
				t.Errorf("%s: no disks", c.file)
			} else {
				check("disk encryption", c.diskFormat, vm.Disks[0].EncryptionFormat)
				check("disk encrypted", inventorytest.Show(&[]bool{c.diskFormat == "luks"}[0]), inventorytest.Show(&vm.Disks[0].Encrypted))
			}
		}
	}
}

func TestCorpusNetworks(t *testing.T) {
	for _, f := range corpusFiles(t, "networks") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		var gaps inventory.Gaps
		n, err := mapNetwork(NetworkRecord{Name: base, XML: string(b)}, "h", testMgmt("eth0", "br0"), &gaps)
		if base == "open-network-with-forward-dev.xml" {
			if err == nil || !strings.Contains(err.Error(), "forward dev not allowed") {
				t.Errorf("%s: err = %v", base, err)
			}
			continue
		}
		if err != nil || n.KVM == nil || n.KVM.ForwardMode == "" {
			t.Errorf("%s: %v %+v", base, err, n)
		}
	}
}
