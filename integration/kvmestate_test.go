package integration

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"github.com/hvaudit/hvaudit/collectors/libvirt"
)

// writeKVMEstate writes a libvirt test-driver node XML with n domains to
// dir and returns its test:// URI (read-write, so console passwords are
// known). The domains cycle through the demo estate's shapes
// (configs/demo/kvm): confidential (SEV, LUKS, encrypted vTPM, Secure
// Boot), an exposed VNC console, a legacy qcow-encrypted guest that is
// shut off, a guest bridged onto the management bridge, and an unconfined
// guest with PCI passthrough on the management network. The host has the
// demo's interfaces and networks, so every check has something to judge.
func writeKVMEstate(tb testing.TB, dir string, n int) string {
	tb.Helper()
	var b strings.Builder
	b.Grow(n * 1400)
	b.WriteString(kvmEstateHead)
	for i := 0; i < n; i++ {
		k := i / len(kvmShapes) // PCI address of the passthrough shape
		fmt.Fprintf(&b, kvmShapes[i%len(kvmShapes)], i, i/256%256, i%256, k/32%256, k%32)
	}
	b.WriteString("</node>\n")
	p := filepath.Join(dir, "node.xml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return "test://" + p + "?" + libvirt.ReadWriteParam + "=1"
}

// kvmEstateHead is the node, its host interfaces and networks.
const kvmEstateHead = `<node>
  <cpu><mhz>2900</mhz><model>x86_64</model><active>64</active><nodes>2</nodes><sockets>2</sockets><cores>16</cores><threads>2</threads></cpu>
  <memory>1073741824</memory>
  <interface type='bridge' name='br-mgmt'>
    <start mode='onboot'/>
    <protocol family='ipv4'><ip address='10.0.0.10' prefix='24'/><route gateway='10.0.0.1'/></protocol>
    <bridge stp='off'><interface type='ethernet' name='eno1'><mac address='52:54:00:de:00:01'/></interface></bridge>
  </interface>
  <interface type='bridge' name='br-guests'>
    <start mode='onboot'/>
    <bridge stp='off'><interface type='ethernet' name='eno2'><mac address='52:54:00:de:00:02'/></interface></bridge>
  </interface>
  <network><name>guests</name><uuid>6a0f3b52-5d1e-4c11-9f0a-0000000000a1</uuid><forward mode='nat'/><bridge name='virbr1'/><ip address='192.168.122.1' netmask='255.255.255.0'/></network>
  <network><name>mgmt-net</name><uuid>6a0f3b52-5d1e-4c11-9f0a-0000000000a2</uuid><forward mode='bridge'/><bridge name='br-mgmt'/></network>
`

// kvmShapes are domain templates; each takes the domain number (name and
// UUID), two MAC octets, and a PCI bus and slot.
var kvmShapes = []string{
	// confidential database guest
	`  <domain type='test'>
    <name>kvm-db-%05[1]d</name><uuid>7b3e9c10-0d5a-4e2b-8c01-%012[1]d</uuid>
    <memory unit='GiB'>16</memory><vcpu>8</vcpu>
    <os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type><firmware><feature enabled='yes' name='secure-boot'/><feature enabled='yes' name='enrolled-keys'/></firmware></os>
    <memoryBacking><nosharepages/></memoryBacking>
    <devices>
      <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/libvirt/images/kvm-db-%05[1]d.qcow2'><encryption format='luks'><secret type='passphrase' uuid='1d0e6c8a-3f41-4b7e-9a55-%012[1]d'/></encryption></source><target dev='vda' bus='virtio'/></disk>
      <interface type='network'><mac address='52:54:00:10:%02[2]x:%02[3]x'/><source network='guests'/><model type='virtio'/><filterref filter='clean-traffic'/></interface>
      <tpm model='tpm-crb'><backend type='emulator' version='2.0'><encryption secret='2d0e6c8a-3f41-4b7e-9a55-%012[1]d'/></backend></tpm>
      <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'><listen type='address' address='127.0.0.1'/></graphics>
    </devices>
    <launchSecurity type='sev' kernelHashes='yes'><cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits><policy>0x0005</policy></launchSecurity>
  </domain>
`,
	// web guest with an exposed console
	`  <domain type='test'>
    <name>kvm-web-%05[1]d</name><uuid>7b3e9c10-0d5a-4e2b-8c01-%012[1]d</uuid>
    <memory unit='GiB'>4</memory><vcpu>2</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    <devices>
      <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/libvirt/images/kvm-web-%05[1]d.qcow2'/><target dev='vda' bus='virtio'/></disk>
      <interface type='bridge'><mac address='52:54:00:11:%02[2]x:%02[3]x'/><source bridge='br-guests'/><model type='virtio'/></interface>
      <graphics type='vnc' port='-1' autoport='yes' listen='0.0.0.0'><listen type='address' address='0.0.0.0'/></graphics>
    </devices>
  </domain>
`,
	// legacy guest, shut off, qcow-encrypted
	`  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>kvm-legacy-%05[1]d</name><uuid>7b3e9c10-0d5a-4e2b-8c01-%012[1]d</uuid>
    <memory unit='GiB'>2</memory><vcpu>1</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    <devices>
      <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/libvirt/images/kvm-legacy-%05[1]d.qcow2'/><target dev='vda' bus='virtio'/><encryption format='qcow'><secret type='passphrase' uuid='3d0e6c8a-3f41-4b7e-9a55-%012[1]d'/></encryption></disk>
      <interface type='network'><mac address='52:54:00:12:%02[2]x:%02[3]x'/><source network='guests'/><filterref filter='clean-traffic'/></interface>
    </devices>
    <test:runstate>5</test:runstate>
  </domain>
`,
	// jump host on the management bridge
	`  <domain type='test'>
    <name>kvm-jump-%05[1]d</name><uuid>7b3e9c10-0d5a-4e2b-8c01-%012[1]d</uuid>
    <memory unit='GiB'>2</memory><vcpu>1</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    <devices>
      <interface type='bridge'><mac address='52:54:00:13:%02[2]x:%02[3]x'/><source bridge='br-mgmt'/><model type='virtio'/></interface>
    </devices>
  </domain>
`,
	// unconfined lab guest with passthrough on the management network
	`  <domain type='test'>
    <name>kvm-lab-%05[1]d</name><uuid>7b3e9c10-0d5a-4e2b-8c01-%012[1]d</uuid>
    <memory unit='GiB'>8</memory><vcpu>4</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    <devices>
      <interface type='network'><mac address='52:54:00:14:%02[2]x:%02[3]x'/><source network='mgmt-net'/></interface>
      <hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x%02[4]x' slot='0x%02[5]x' function='0x1'/></source></hostdev>
    </devices>
    <seclabel type='none'/>
  </domain>
`,
}

// TestKVMEstateGenerator checks that every generated domain is one
// libvirt would accept and that names, UUIDs and MACs are unique, so a
// benchmark over thousands of domains measures what it claims to.
func TestKVMEstateGenerator(t *testing.T) {
	const n = 600
	uri := writeKVMEstate(t, t.TempDir(), n)
	path := strings.TrimPrefix(uri, "test://")
	path, _, _ = strings.Cut(path, "?")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var node struct {
		Domains []libvirtxml.Domain `xml:"domain"`
	}
	if err := xml.Unmarshal(raw, &node); err != nil {
		t.Fatalf("node XML does not parse: %v", err)
	}
	if len(node.Domains) != n {
		t.Fatalf("%d domains in the node, want %d", len(node.Domains), n)
	}
	seen := map[string]bool{}
	for i, d := range node.Domains {
		doc, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := libvirt.ParseDomainXML(doc); err != nil {
			t.Errorf("domain %d: %v", i, err)
		}
		keys := []string{"name " + d.Name, "uuid " + d.UUID}
		if d.Devices != nil {
			for _, ifc := range d.Devices.Interfaces {
				if ifc.MAC != nil {
					keys = append(keys, "mac "+ifc.MAC.Address)
				}
			}
		}
		for _, k := range keys {
			if seen[k] {
				t.Errorf("domain %d: %s used twice", i, k)
			}
			seen[k] = true
		}
	}
}
