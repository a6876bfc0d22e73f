package libvirt

import (
	"strings"
	"testing"
)

func TestParseConf(t *testing.T) {
	c, err := ParseConf(`# comment
listen_tcp = 1
auth_tcp = "none"   # trailing comment
user='+0'
seccomp_sandbox = -1
security_driver = [ "selinux",
   # a comment inside a list
   'apparmor', ]
empty_list = []
desc = """two
lines"""
listen_tls = 0;
`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"listen_tcp": "1", "auth_tcp": "none", "user": "+0", "seccomp_sandbox": "-1",
		"security_driver": `["selinux", "apparmor"]`, "empty_list": "[]", "desc": "two\nlines", "listen_tls": "0"}
	got := c.Settings()
	if len(got) != len(want) {
		t.Errorf("got %d keys, want %d: %v", len(got), len(want), got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if !c["listen_tcp"].Bool() || c["listen_tls"].Bool() || c.integer("seccomp_sandbox", 1) != -1 {
		t.Error("typed values wrong")
	}
	if l := c.list("security_driver"); strings.Join(l, "|") != "selinux|apparmor" {
		t.Errorf("list %v", l)
	}
}

func TestParseConfErrors(t *testing.T) {
	for text, want := range map[string]string{
		"listen_tcp 1":                  `line 1: expected '=' after "listen_tcp"`,
		"a = 1\nb = \"open":             "line 2: string not closed",
		"a = [ \"x\" \"y\" ]":           "expected ',' or ']'",
		"a = [ 1 ]":                     "list items must be quoted strings",
		"a = yes":                       "expected a number, string or list",
		"a = 1 b = 2":                   `unexpected "b = 2" after the value of "a"`,
		"= 1":                           "expected a setting name",
		"x = [\n\"a\",\n":               "line 3: list not closed",
		"a = 99999999999999999999999":   "bad number",
		"ok = 1\n\n\nbad = \"\"\"never": `line 4: string not closed with """`,
	} {
		_, err := ParseConf(text)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", text, err, want)
		}
	}
}

func TestRedactConf(t *testing.T) {
	in := "vnc_password = \"XYZ12345\"\n  spice_password='abc' # note\nvnc_listen = \"0.0.0.0\"\n#vnc_password = \"commented\"\nempty_password = \"\"\n"
	out := RedactConf(in)
	for _, s := range []string{"XYZ12345", "abc"} {
		if strings.Contains(out, s) {
			t.Errorf("redacted text still holds %q:\n%s", s, out)
		}
	}
	c, err := ParseConf(out)
	if err != nil {
		t.Fatalf("redacted text no longer parses: %v", err)
	}
	if c.str("vnc_password", "") != redacted || c.str("spice_password", "") != redacted || c.str("empty_password", "x") != "" || c.str("vnc_listen", "") != "0.0.0.0" {
		t.Errorf("redacted settings %v", c.Settings())
	}
	// A commented-out example stays as it was.
	if !strings.Contains(out, `#vnc_password = "commented"`) {
		t.Errorf("comment changed:\n%s", out)
	}
}

func TestQEMUConfigDefaults(t *testing.T) {
	q := QEMUConfigFrom(Conf{}, "rhel")
	switch {
	case q.VNCListen != "127.0.0.1" || q.SpiceListen != "127.0.0.1":
		t.Errorf("listen defaults %q %q", q.VNCListen, q.SpiceListen)
	case q.VNCTLS || q.SpiceTLS || q.VNCTLSX509Verify || q.MigrateTLSForce || q.DumpGuestCore || q.NBDTLS || q.RelaxedACSCheck:
		t.Errorf("an off-by-default setting is on: %+v", q)
	case !q.MigrateTLSX509Verify || !q.DefaultTLSX509Verify || !q.SecurityDefaultConfined || !q.DynamicOwnership || !q.ClearEmulatorCapabilities || !q.Sandbox:
		t.Errorf("an on-by-default setting is off: %+v", q)
	case q.User != "qemu" || boolp(q.RunsAsRoot) != "false" || len(q.SecurityDriver) != 0:
		t.Errorf("user %q root %s driver %v", q.User, boolp(q.RunsAsRoot), q.SecurityDriver)
	}
	if q := QEMUConfigFrom(Conf{}, ""); q.User != "" || q.RunsAsRoot != nil {
		t.Errorf("unknown distro: user %q root %s", q.User, boolp(q.RunsAsRoot))
	}
	c, _ := ParseConf("user = \"+0\"\ndefault_tls_x509_verify = 0\nvnc_tls = 1\nsecurity_driver = \"none\"")
	q = QEMUConfigFrom(c, "debian")
	if boolp(q.RunsAsRoot) != "true" || q.MigrateTLSX509Verify || q.VNCTLSX509Verify || !q.VNCTLS || strings.Join(q.SecurityDriver, ",") != "none" {
		t.Errorf("explicit settings: %+v", q)
	}
	c, _ = ParseConf("default_tls_x509_verify = 1")
	if q := QEMUConfigFrom(c, "debian"); !q.VNCTLSX509Verify {
		t.Error("vnc_tls_x509_verify does not inherit default_tls_x509_verify")
	}
}

func TestDaemonConfig(t *testing.T) {
	d := DaemonConfigFrom("libvirtd", Conf{}, "debian")
	if d.ListenTCP || !d.ListenTLS || d.AuthTCP != "sasl" || d.AuthTLS != "none" || d.AuthUnixRW != "polkit" || d.UnixSockRWPerms != "0777" || d.AuditLevel != 1 {
		t.Errorf("defaults %+v", d)
	}
	c, _ := ParseConf(`auth_unix_rw = "none"`)
	if d := DaemonConfigFrom("virtproxyd", c, ""); d.UnixSockRWPerms != "0700" || d.Path != "/etc/libvirt/virtproxyd.conf" {
		t.Errorf("rw perms without polkit %q", d.UnixSockRWPerms)
	}
	for text, want := range map[string]bool{
		`LIBVIRTD_ARGS="--listen"`:             true,
		`LIBVIRTD_ARGS="--timeout 120 -l"`:     true,
		`#LIBVIRTD_ARGS="--listen"`:            false,
		`LIBVIRTD_ARGS="--timeout 120"`:        false,
		"start_libvirtd=yes\nARGS='--listen' ": true,
	} {
		if hasListenFlag(text) != want {
			t.Errorf("hasListenFlag(%q) = %v", text, !want)
		}
	}
}
