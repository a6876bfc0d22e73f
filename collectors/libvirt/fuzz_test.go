package libvirt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedFiles adds every file matching the patterns to a fuzz corpus.
func seedFiles(f *testing.F, patterns ...string) {
	for _, p := range patterns {
		files, _ := filepath.Glob(p)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(string(b))
			}
		}
	}
}

func FuzzParseQemuConf(f *testing.F) {
	seedFiles(f, "testdata/hostroot/etc/libvirt/*.conf", "testdata/seeds/conf/*")
	f.Add("security_driver = [ \"selinux\", 'apparmor', ]\nuser = \"+0\"\n")
	f.Add("vnc_password = \"\"\"multi\nline\"\"\"\n")
	f.Add("a = -1;\n# c\nb = [\n]\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseConf(text)
		if err != nil {
			// An error quotes nothing from the text: it may hold a secret.
			if !confErrorRE.MatchString(err.Error()) {
				t.Fatalf("error outside the fixed vocabulary: %v", err)
			}
			if _, rerr := RedactConf(text); rerr == nil {
				t.Fatal("RedactConf accepted text ParseConf refuses")
			}
			return
		}
		if q, err := QEMUConfigFrom(c, "debian"); err == nil && q.Sandbox != (q.SeccompSandbox == 1) {
			t.Fatal("sandbox derivation inconsistent")
		}
		_, _ = DaemonConfigFrom("libvirtd", "/etc/libvirt/libvirtd.conf", c, "")
		// What RedactConf stores parses to the same keys and never
		// carries a secret setting's value.
		out, err := RedactConf(text)
		if err != nil {
			t.Fatalf("RedactConf refused parseable text: %v", err)
		}
		rc, err := ParseConf(out)
		if err != nil {
			t.Fatalf("redacted text does not parse: %v", err)
		}
		orig := c.Settings()
		for k, v := range rc.Settings() {
			if secretKey.MatchString(k) {
				if v != "" && v != redacted && v != "0" && v != `["[REDACTED]"]` && v != "[]" {
					t.Fatalf("redacted %s = %q", k, v)
				}
			} else if v != orig[k] {
				t.Fatalf("%s changed by redaction: %q → %q", k, orig[k], v)
			}
		}
	})
}

func FuzzNormalizeDomainXML(f *testing.F) {
	f.Add(secretDomain)
	seedFiles(f, "testdata/domains/*.xml", filepath.Join(corpusDir, "domains", "launch-security-*.xml"),
		filepath.Join(corpusDir, "domains", "graphics-vnc*.xml"), filepath.Join(corpusDir, "domains", "luks-*.xml"))
	f.Add(`<domain type='kvm'><name>x</name><devices><graphics type='vnc' passwd='p'/></devices></domain>`)
	f.Fuzz(func(t *testing.T, doc string) {
		vm, gaps, err := NormalizeDomainXML(doc)
		if err != nil {
			return
		}
		if vm.ID == "" || vm.KVM == nil || vm.Encryption == nil || vm.Encryption.AllDisks == nil {
			t.Fatalf("incomplete VM %+v", vm)
		}
		for _, g := range gaps {
			if g.Reason == "" {
				t.Fatalf("gap without a reason: %+v", g)
			}
		}
		red, _, err := RedactDomainXML(doc)
		if err != nil {
			return
		}
		// What is stored still parses as the same domain, with no console
		// password, cookie or auth secret usage left.
		x, err := ParseDomainXML(red)
		if err != nil {
			t.Fatalf("redacted XML no longer parses: %v", err)
		}
		if x.Devices != nil {
			for _, g := range x.Devices.Graphics {
				if g.VNC != nil && g.VNC.Passwd != "" || g.Spice != nil && g.Spice.Passwd != "" || g.RDP != nil && g.RDP.Passwd != "" {
					t.Fatal("console password left")
				}
			}
		}
	})
}

func FuzzParseProcNetRoute(f *testing.F) {
	seedFiles(f, "testdata/hostroot/proc/net/route")
	f.Fuzz(func(t *testing.T, text string) {
		routes, err := ParseProcNetRoute(text)
		if err == nil {
			_ = defaultRouteIfaces(routes)
		}
	})
}

func FuzzParseDpkgStatus(f *testing.F) {
	seedFiles(f, "testdata/hostroot/var/lib/dpkg/status")
	f.Fuzz(func(t *testing.T, text string) {
		all := ParseDpkgStatus(text)
		filtered, err := FilterDpkgStatus(strings.NewReader(text))
		if err != nil {
			return
		}
		// Filtering keeps every installed libvirt/QEMU package's version.
		kept := ParseDpkgStatus(filtered)
		for name, v := range all {
			if relevantPackage(name) && kept[name] != v && !strings.ContainsAny(v, "\r") {
				t.Fatalf("%s %q lost by filtering (kept %q)", name, v, kept[name])
			}
		}
	})
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"testdata/seeds/uri/uris.txt"} {
		if b, err := os.ReadFile(s); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				f.Add(l)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := parseURI(raw)
		if err != nil {
			return
		}
		// The URI handed to libvirt reads the same way again, without
		// hvaudit's parameter.
		again, err := parseURI(u.LibvirtURI)
		if err != nil {
			t.Fatalf("%q → %q no longer parses: %v", raw, u.LibvirtURI, err)
		}
		if again.NoVerify != u.NoVerify || again.KnownHostsVerify != u.KnownHostsVerify || again.ReadWrite || transport(again) != transport(u) {
			t.Fatalf("%q → %q reads differently: %+v vs %+v", raw, u.LibvirtURI, u, again)
		}
	})
}

func FuzzParseProcNetTCP(f *testing.F) {
	seedFiles(f, "testdata/seeds/tcp/*", "testdata/hostroot/proc/*/net/tcp*")
	f.Fuzz(func(t *testing.T, text string) {
		socks, err := ParseProcNetTCP(text)
		if err != nil {
			return
		}
		for _, a := range socks {
			if a.Port < 0 || a.Port > 65535 || a.Addr == "" {
				t.Fatalf("bad socket %+v", a)
			}
		}
	})
}

// FuzzQEMUCommandLine: whatever the command line, the stored arguments
// keep no secret object's data and no password value, and the displays
// parse without panicking.
func FuzzQEMUCommandLine(f *testing.F) {
	f.Add("-vnc\x000.0.0.0:1,password=on\x00-object\x00secret,id=s,data=SEKRIT\x00-spice\x00port=1,password=SEKRIT")
	f.Add("-object\x00tls-creds-x509,id=t,dir=/p\x00-vnc\x00[::]:2,tls-creds=t,sasl=on\x00-sandbox\x00on")
	f.Fuzz(func(t *testing.T, joined string) {
		args := append([]string{"qemu-system-x86_64"}, strings.Split(joined, "\x00")...)
		kept := filterQEMUArgs(args)
		for i := 1; i+1 < len(kept); i += 2 {
			if kept[i] == "-object" && !strings.HasPrefix(kept[i+1], "tls-creds-x509,") && !strings.HasPrefix(kept[i+1], `{"qom-type":"tls-creds-x509"`) {
				t.Fatalf("object kept: %q", kept[i+1])
			}
			for _, part := range splitQEMUOpts(kept[i+1]) {
				if k, v, ok := strings.Cut(part, "="); ok && qemuSecretOpt(k) && v != redacted {
					t.Fatalf("%s %s=%q kept", kept[i], k, v)
				}
			}
		}
		if again := filterQEMUArgs(kept); strings.Join(again, "\x00") != strings.Join(kept, "\x00") {
			t.Fatal("filtering is not idempotent")
		}
		_ = parseRuntimeDisplays(kept)
	})
}

func FuzzFirmwareDescriptor(f *testing.F) {
	seedFiles(f, "testdata/hostroot/usr/share/qemu/firmware/*.json")
	f.Fuzz(func(t *testing.T, text string) {
		d, err := parseFirmwareDesc("x.json", "/usr/share/qemu/firmware/x.json", text)
		if err != nil {
			return
		}
		req := firmwareRequest{arch: "x86_64", machine: "pc-q35-7.2", features: map[string]string{"secure-boot": "yes"}}
		if req.matches(d) && !d.features["secure-boot"] {
			t.Fatal("matched a descriptor without a feature the domain asks for")
		}
	})
}
