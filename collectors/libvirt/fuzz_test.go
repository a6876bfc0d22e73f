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
	seedFiles(f, "testdata/hostroot/etc/libvirt/*.conf", "testdata/fuzz/conf/*")
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
				if o := orig[k]; o != "" && o != "[]" && len(o) > 3 && strings.Contains(out, o) {
					t.Fatalf("secret value of %s still in the text", k)
				}
			} else if v != orig[k] {
				t.Fatalf("%s changed by redaction: %q → %q", k, orig[k], v)
			}
		}
	})
}

func FuzzNormalizeDomainXML(f *testing.F) {
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
