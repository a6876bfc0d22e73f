package libvirt

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
)

func TestStripGraphicsPasswords(t *testing.T) {
	doc := `<domain><devices>
<graphics type='vnc' port='5900' passwd='p1' listen='0.0.0.0'/>
<graphics type="spice" passwd="a>b'c" autoport="yes"><listen type='address'/></graphics>
<graphics type='sdl'/>
<disk passwd='not-graphics'/>
</devices></domain>`
	out, had := StripGraphicsPasswords(doc)
	if strings.Contains(out, "p1") || strings.Contains(out, "a>b") || strings.Contains(out, "b'c") {
		t.Errorf("password left:\n%s", out)
	}
	if strings.Join(boolsString(had), ",") != "true,true,false" {
		t.Errorf("had = %v", had)
	}
	if !strings.Contains(out, "not-graphics") || !strings.Contains(out, `autoport="yes"`) {
		t.Errorf("too much removed:\n%s", out)
	}
	if _, err := ParseDomainXML(strings.Replace(out, "<domain>", "<domain><name>x</name>", 1)); err != nil {
		t.Errorf("stripped XML no longer parses: %v", err)
	}
}

func boolsString(b []bool) []string {
	out := make([]string, len(b))
	for i, v := range b {
		out[i] = inventorytest.Show(&v)
	}
	return out
}

// secretDomain carries a distinct marker in every secret-bearing field
// of a domain XML (SecretFields).
const secretDomain = `<domain type='kvm'>
  <name>secrets</name>
  <uuid>6f1c0b7e-0000-4000-8000-0000000000aa</uuid>
  <memory>131072</memory>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='network' device='disk'>
      <source protocol='https' name='/images/a.qcow2' query='token=MK-QUERY-1'>
        <host name='images.example' port='443'/>
        <cookies>
          <cookie name='session'>MK-COOKIE-1</cookie>
          <cookie name='other'><![CDATA[MK-COOKIE-2&x]]></cookie>
        </cookies>
      </source>
      <backingStore type='network'>
        <format type='raw'/>
        <source protocol='http' name='/base.raw'><host name='images.example'/><cookies><cookie name='b'>MK-COOKIE-3</cookie></cookies></source>
      </backingStore>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='network' device='disk'>
      <source protocol='iscsi' name='iqn.2013-07.com.example:iscsi-nopool/1'>
        <host name='10.0.0.1' port='3260'/>
        <auth username='myuser'><secret type='iscsi' usage='MK-ISCSI-USAGE'/></auth>
      </source>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='network' device='disk'>
      <auth username='admin'><secret type="ceph" usage="MK-RBD-USAGE"/></auth>
      <source protocol='rbd' name='pool/image'><host name='mon1' port='6789'/></source>
      <target dev='vdc' bus='virtio'/>
    </disk>
    <hostdev mode='subsystem' type='scsi'>
      <source protocol='iscsi' name='iqn.2014-08.com.example:iscsi-pool/1'>
        <host name='10.0.0.2'/>
        <auth username='u'><secret type='iscsi' usage='MK-HOSTDEV-USAGE'/></auth>
      </source>
    </hostdev>
    <graphics type='vnc' port='5900' passwd='MK-VNC-PW' listen='0.0.0.0'/>
    <graphics type='spice' autoport='yes' passwd="MK-SPICE-PW"/>
    <graphics type='rdp' autoport='yes' passwd='MK-RDP-PW'/>
  </devices>
</domain>`

func TestRedactDomainXMLEveryField(t *testing.T) {
	out, had, err := RedactDomainXML(secretDomain)
	if err != nil {
		t.Fatal(err)
	}
	if i := strings.Index(out, "MK-"); i >= 0 {
		t.Errorf("a marker is left: …%s…", out[max(0, i-40):min(len(out), i+40)])
	}
	if strings.Join(boolsString(had), ",") != "true,true,true" {
		t.Errorf("had = %v", had)
	}
	x, err := ParseDomainXML(out)
	if err != nil {
		t.Fatalf("redacted XML no longer parses: %v", err)
	}
	if len(x.Devices.Disks) != 3 || len(x.Devices.Graphics) != 3 || len(x.Devices.Hostdevs) != 1 {
		t.Errorf("devices lost: %d disks, %d graphics", len(x.Devices.Disks), len(x.Devices.Graphics))
	}
	// Twice is the same as once.
	again, _, _ := RedactDomainXML(out)
	if again != out {
		t.Error("redaction is not idempotent")
	}
	if _, _, err := RedactDomainXML("<domain><name>x</name><graphics passwd='MK'"); err == nil {
		t.Error("broken XML passed as redacted")
	}
}

// TestDataRedactEverything: the snapshot-wide layer redacts domains,
// configuration files and QEMU command lines, and drops what it cannot
// redact.
func TestDataRedactEverything(t *testing.T) {
	d := &Data{
		Domains: []DomainRecord{{Name: "secrets", XML: secretDomain, Secure: true}, {Name: "broken", XML: "<domain><graphics passwd='MK-BROKEN'"}},
		Host: &HostFiles{Files: map[string]string{
			pathQEMUConf:                 "vnc_password = \"\"\"MK-CONF-1\nMK-CONF-2\"\"\"\nspice_password = 'MK-CONF-3'\n",
			"/srv/libvirt/libvirtd.conf": "listen_tcp = 1\nsasl_secret = \"MK-CONF-4\"\n",
			"/etc/libvirt/broken.conf":   "vnc_password = \"MK-CONF-5",
		}},
		Runtime: &Runtime{Domains: map[string]ProcessRecord{"secrets": {Args: []string{"qemu", "-object", "secret,id=s,data=MK-ARG-1", "-spice", "port=1,password=MK-ARG-2"}}}},
	}
	d.Redact()
	raw := fmt.Sprintf("%+v %+v %+v", d.Domains, *d.Host, *d.Runtime)
	if i := strings.Index(raw, "MK-"); i >= 0 {
		t.Errorf("a marker is left: …%s…", raw[max(0, i-60):min(len(raw), i+40)])
	}
	if d.Domains[1].XML != "" || !strings.Contains(d.Domains[1].Error, "not well-formed") {
		t.Errorf("broken domain kept: %+v", d.Domains[1])
	}
	if _, kept := d.Host.Files["/etc/libvirt/broken.conf"]; kept || !strings.Contains(d.Host.Errors["/etc/libvirt/broken.conf"], "line 1") {
		t.Errorf("broken conf: %v %v", d.Host.Files, d.Host.Errors)
	}
	if strings.Join(boolsString(d.Domains[0].GraphicsPasswords), ",") != "true,true,true" {
		t.Errorf("password flags %v", d.Domains[0].GraphicsPasswords)
	}
}
