package libvirt

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
)

func TestParseConf(t *testing.T) {
	c, err := ParseConf(`# comment
listen_tcp = 1
auth_tcp = "none"   # trailing comment
user='+0'
seccomp_sandbox = -1
security_driver = [ "selinux",
   'apparmor', ]
empty_list = []
desc = """two
lines"""
listen_tls = 0;
nested = [ [ "a" ], 2 ]
listen_tcp = 0
`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"listen_tcp": "1", "auth_tcp": "none", "user": "+0", "seccomp_sandbox": "-1",
		"security_driver": `["selinux", "apparmor"]`, "empty_list": "[]", "desc": "two\nlines", "listen_tls": "0",
		"nested": `[["a"], 2]`}
	got := c.Settings()
	if len(got) != len(want) {
		t.Errorf("got %d keys, want %d: %v", len(got), len(want), got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	r := &confReader{c: c}
	// The first statement of a key counts, as virConfGetValue returns it.
	if !r.boolean("listen_tcp", false) || r.boolean("listen_tls", true) || r.integer("seccomp_sandbox", 1, false) != -1 {
		t.Error("typed values wrong")
	}
	if l := r.list("security_driver"); strings.Join(l, "|") != "selinux|apparmor" {
		t.Errorf("list %v", l)
	}
	if l := r.list("user"); strings.Join(l, "|") != "+0" {
		t.Errorf("a string read as a list: %v", l)
	}
	if err := r.err("x.conf"); err != nil {
		t.Errorf("unexpected type errors: %v", err)
	}
}

// TestConfTypesAsLibvirt: libvirt refuses a file whose values have the
// wrong type, so hvaudit must not read "1" or "yes" as on.
func TestConfTypesAsLibvirt(t *testing.T) {
	for text, want := range map[string]string{
		`vnc_tls = "1"`:           "vnc_tls must be 0 or 1",
		`vnc_tls = 2`:             "vnc_tls must be 0 or 1",
		`vnc_tls = -0`:            "vnc_tls must be 0 or 1",
		`vnc_listen = 0`:          "vnc_listen must be a string",
		`security_driver = [ 1 ]`: "security_driver must be a list of strings",
		`seccomp_sandbox = "on"`:  "seccomp_sandbox must be an integer",
		`user = [ "root" ]`:       "user must be a string",
	} {
		c, err := ParseConf(text)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if _, err := QEMUConfigFrom(c, "debian"); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "libvirt refuses") {
			t.Errorf("%q: err = %v, want %q", text, err, want)
		}
	}
	c, _ := ParseConf(`audit_level = -1`)
	if _, err := DaemonConfigFrom("libvirtd", "/etc/libvirt/libvirtd.conf", c, ""); err == nil || !strings.Contains(err.Error(), "audit_level must be an unsigned integer") {
		t.Errorf("audit_level = -1: %v", err)
	}
}

func TestParseConfErrors(t *testing.T) {
	for text, want := range map[string]string{
		"listen_tcp 1":                    "line 1: expecting '='",
		"a = 1\nb = \"open":               "line 2: unterminated string",
		"a = [ \"x\" \"y\" ]":             "expecting ',' or ']'",
		"a = yes":                         "expecting a value",
		"a = 1 b = 2":                     "expecting a newline or ';'",
		"= 1":                             "expecting a setting name",
		"_a = 1":                          "expecting a setting name",
		"x = [\n\"a\",\n":                 "line 3: expecting a value",
		"x = [\n\"a\"\n":                  "line 3: list is not closed",
		"x = [ \"a\",\n# no comments\n]":  "line 2: expecting a value",
		"a = 99999999999999999999999":     "number too large",
		"a = -":                           "unterminated number",
		"ok = 1\n\n\nbad = \"\"\"never\n": "line 4: unterminated string",
	} {
		_, err := ParseConf(text)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", text, err, want)
		}
	}
}

// confErrorRE is every error ParseConf may return: a line and a phrase of
// its own, nothing from the text.
var confErrorRE = regexp.MustCompile(`^line \d+: (expecting a setting name|expecting '=' after a setting name|expecting a newline or ';' after a value|expecting a value|expecting ',' or '\]' in a list|list is not closed with '\]'|unterminated number|number too large|expecting a value \(a number, a quoted string or a list\)|unterminated string)$`)

func TestRedactConf(t *testing.T) {
	in := "vnc_password = \"XYZ12345\"\n  spice_password='abc' # note\nvnc_listen = \"0.0.0.0\"\n#vnc_password = \"commented\"\n" +
		"empty_password = \"\"\nmulti_password = \"\"\"first\nTAIL-SECRET\"\"\"\nlist_secret = [ \"L1\",\n \"L2\" ]\nnum_passwd = 31337; vnc_sasl = 1\n"
	out, err := RedactConf(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"XYZ12345", "abc", "first", "TAIL-SECRET", "L1", "L2", "31337"} {
		if strings.Contains(out, s) {
			t.Errorf("redacted text still holds %q:\n%s", s, out)
		}
	}
	c, err := ParseConf(out)
	if err != nil {
		t.Fatalf("redacted text no longer parses: %v\n%s", err, out)
	}
	got := c.Settings()
	for k, v := range map[string]string{"vnc_password": redacted, "spice_password": redacted, "empty_password": "", "multi_password": redacted,
		"list_secret": `["[REDACTED]"]`, "num_passwd": "0", "vnc_listen": "0.0.0.0", "vnc_sasl": "1"} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	// A commented-out example stays as it was.
	if !strings.Contains(out, `#vnc_password = "commented"`) {
		t.Errorf("comment changed:\n%s", out)
	}
	// A file that does not parse is not returned, and its error quotes
	// nothing of it: here the tail of a password after a broken quote.
	out, err = RedactConf("vnc_password = \"\"\"first\nTAIL-SECRET\" junk\n")
	if err == nil || out != "" || !errors.Is(err, ErrConfSyntax) || strings.Contains(err.Error(), "TAIL") || strings.Contains(err.Error(), "junk") {
		t.Errorf("unparseable: out %q err %v", out, err)
	}
}

func TestQEMUConfigDefaults(t *testing.T) {
	q, err := QEMUConfigFrom(&Conf{}, "rhel")
	switch {
	case err != nil:
		t.Fatal(err)
	case q.VNCListen != "127.0.0.1" || q.SpiceListen != "127.0.0.1":
		t.Errorf("listen defaults %q %q", q.VNCListen, q.SpiceListen)
	case q.VNCTLS || q.SpiceTLS || q.VNCTLSX509Verify || q.MigrateTLSForce || q.DumpGuestCore || q.NBDTLS || q.RelaxedACSCheck:
		t.Errorf("an off-by-default setting is on: %+v", q)
	case !q.MigrateTLSX509Verify || !q.DefaultTLSX509Verify || !q.SecurityDefaultConfined || !q.DynamicOwnership || !q.ClearEmulatorCapabilities || !q.Sandbox:
		t.Errorf("an on-by-default setting is off: %+v", q)
	case q.User != "qemu" || inventorytest.Show(q.RunsAsRoot) != "false" || len(q.SecurityDriver) != 0:
		t.Errorf("user %q root %s driver %v", q.User, inventorytest.Show(q.RunsAsRoot), q.SecurityDriver)
	}
	if q, _ := QEMUConfigFrom(&Conf{}, ""); q.User != "" || q.RunsAsRoot != nil {
		t.Errorf("unknown distro: user %q root %s", q.User, inventorytest.Show(q.RunsAsRoot))
	}
	c, _ := ParseConf("user = \"+0\"\ndefault_tls_x509_verify = 0\nvnc_tls = 1\nsecurity_driver = \"none\"")
	q, _ = QEMUConfigFrom(c, "debian")
	if inventorytest.Show(q.RunsAsRoot) != "true" || q.MigrateTLSX509Verify || q.VNCTLSX509Verify || !q.VNCTLS || strings.Join(q.SecurityDriver, ",") != "none" {
		t.Errorf("explicit settings: %+v", q)
	}
	c, _ = ParseConf("default_tls_x509_verify = 1")
	if q, _ := QEMUConfigFrom(c, "debian"); !q.VNCTLSX509Verify {
		t.Error("vnc_tls_x509_verify does not inherit default_tls_x509_verify")
	}
}

func TestDaemonConfig(t *testing.T) {
	d, err := DaemonConfigFrom("libvirtd", "/etc/libvirt/libvirtd.conf", &Conf{}, "debian")
	if err != nil || *d.ListenTCP || !*d.ListenTLS || *d.AuthTCP != "sasl" || *d.AuthTLS != "none" || *d.AuthUnixRW != "polkit" || *d.UnixSockRWPerms != "0777" || *d.AuditLevel != 1 {
		t.Errorf("defaults %+v %v", d, err)
	}
	c, _ := ParseConf(`auth_unix_rw = "none"`)
	if d, _ := DaemonConfigFrom("virtproxyd", "/etc/libvirt/virtproxyd.conf", c, ""); *d.UnixSockRWPerms != "0700" || d.Path != "/etc/libvirt/virtproxyd.conf" {
		t.Errorf("rw perms without polkit %q", *d.UnixSockRWPerms)
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
