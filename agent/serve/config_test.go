package serve

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/collectors"
	_ "github.com/hvaudit/hvaudit/collectors/all" // targets name real schemes; the cmd links the collectors
)

// writeConfig writes a serve config (plus a password file and a 0600
// token) into a temporary directory; serveExtra goes into [serve], rest
// after the schedule.
func writeConfig(t *testing.T, serveExtra, rest string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"pw": "secret\n", "token": "0123456789abcdef0123\n", "short-token": "abc\n", "hook.key": "k\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "loose-token"), []byte("0123456789abcdef0123\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `[serve]
history = "state/history.db"
` + serveExtra + `
[[schedule]]
name = "nightly"
cron = "0 2 * * *"
targets = ["vc01"]
jitter = "5m"

[[target]]
name = "vc01"
uri = "vsphere://auditor@vc01.example.com"
password_file = "pw"
` + rest
	p := filepath.Join(dir, "agent.toml")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadResolvesPathsAgainstTheConfigFile(t *testing.T) {
	p := writeConfig(t, `webhook_url = "https://hooks.example/h"
webhook_secret_file = "hook.key"
retention_days = 400`, `
[[output]]
format = "json"
path = "reports/{target}-{date}.json"
[[output]]
format = "table"
path = "-"
`)
	dir := filepath.Dir(p)
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.History != filepath.Join(dir, "state", "history.db") {
		t.Errorf("history %q, want it under the config's directory", s.History)
	}
	if s.Listen != DefaultListen || s.TLS != nil || s.BearerToken != "" {
		t.Errorf("defaults: listen %q, tls %v", s.Listen, s.TLS != nil)
	}
	if len(s.Outputs) != 1 || s.Outputs[0].Path != filepath.Join(dir, "reports", "{target}-{date}.json") || s.DroppedOutputs != 1 {
		t.Errorf("outputs %+v (dropped %d)", s.Outputs, s.DroppedOutputs)
	}
	if s.Webhook == nil || string(s.Webhook.Secret) != "k" || s.Retention.Hours() != 400*24 {
		t.Errorf("webhook %+v, retention %v", s.Webhook, s.Retention)
	}
	if sc := s.Schedules[0]; sc.Name != "nightly" || sc.Jitter.Minutes() != 5 || len(sc.Targets) != 1 {
		t.Errorf("schedule %+v", sc)
	}
	if pw := s.Targets["vc01"].Password.Reveal(); pw != "secret" {
		t.Errorf("password file read relative to the config: %q", pw)
	}
}

func TestLoadRefuses(t *testing.T) {
	cases := []struct {
		name, serve, rest, want string
	}{
		{"no history", "", "", "history is required"},
		{"bad cron", "", "", ""}, // replaced below
		{"wide listen without TLS", `listen = "0.0.0.0:9812"`, "", "bearer_token_file, tls_cert_file, tls_key_file"},
		{"wide listen without a token", `listen = "10.0.0.5:9812"
tls_cert_file = "c.pem"
tls_key_file = "k.pem"`, "", "set bearer_token_file"},
		{"a short token", `bearer_token_file = "short-token"`, "", "shorter than 16"},
		{"a token others can read", `bearer_token_file = "loose-token"`, "", "0644"},
		{"half a TLS pair", `tls_cert_file = "c.pem"`, "", "go together"},
		{"an unreadable certificate", `tls_cert_file = "c.pem"
tls_key_file = "k.pem"`, "", "TLS"},
		{"a secret without a webhook", `webhook_secret_file = "hook.key"`, "", "webhook_url is not"},
		{"a webhook with credentials", `webhook_url = "https://u:p@hooks.example/"`, "", "credentials"},
		{"an unknown placeholder", "", "[[output]]\nformat = \"json\"\npath = \"r-{day}.json\"\n", "unknown placeholder {day}"},
		{"two targets with one name", "", "[[target]]\nname = \"vc01\"\nuri = \"vsphere://a@other\"\n", "two targets are named"},
		{"an unknown key", "listen_addr = \"x\"", "", `unknown key "serve.listen_addr"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeConfig(t, c.serve, c.rest)
			if c.name == "no history" {
				b, _ := os.ReadFile(p)
				os.WriteFile(p, []byte(strings.Replace(string(b), `history = "state/history.db"`, ``, 1)), 0o600)
			}
			if c.name == "bad cron" {
				b, _ := os.ReadFile(p)
				os.WriteFile(p, []byte(strings.Replace(string(b), `"0 2 * * *"`, `"0 25 * * *"`, 1)), 0o600)
				c.want = `cron "0 25 * * *"`
			}
			_, err := Load(p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
			if err != nil && !strings.Contains(err.Error(), "agent.toml") {
				t.Errorf("the error does not name the file: %v", err)
			}
		})
	}
	p := writeConfig(t, "", "")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(b), `targets = ["vc01"]`, `targets = ["vc02"]`, 1)), 0o600)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), `no [[target]] is named "vc02" (targets: vc01)`) {
		t.Errorf("a schedule naming an unknown target: %v", err)
	}
}

func TestLoadWarnsAboutPlainHTTPWebhooks(t *testing.T) {
	s, err := Load(writeConfig(t, `webhook_url = "http://hooks.example/h"`, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "plain http") {
		t.Errorf("warnings %v", s.Warnings)
	}
	s, err = Load(writeConfig(t, `webhook_url = "http://127.0.0.1:8080/h"`, ""))
	if err != nil || len(s.Warnings) != 0 {
		t.Errorf("loopback http: %v %v", s.Warnings, err)
	}
}

func TestGuardRequiresTheTokenExceptForHealthz(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	h := guard("0123456789abcdef", ok)
	for _, c := range []struct {
		path, auth string
		want       int
	}{
		{"/metrics", "", 401}, {"/metrics", "Bearer nope", 401}, {"/metrics", "0123456789abcdef", 401},
		{"/metrics", "Bearer 0123456789abcdef", 204}, {"/", "Bearer 0123456789abcdef", 204}, {"/healthz", "", 204},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", c.path, nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%s with %q: %d, want %d", c.path, c.auth, rec.Code, c.want)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no security headers", c.path)
		}
	}
	rec := httptest.NewRecorder()
	guard("", ok).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 204 {
		t.Errorf("no token configured: %d", rec.Code)
	}
}

// TestExampleConfigServeSection: the example's [serve] and [[schedule]]
// tables are valid as shipped.
func TestExampleConfigServeSection(t *testing.T) {
	cfg, err := agent.LoadConfig("../../configs/agent.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	s := &Settings{Targets: map[string]collectors.Target{}, Listen: cfg.Serve.Listen}
	for _, tc := range cfg.Targets {
		s.Targets[tc.Name] = collectors.Target{Name: tc.Name}
	}
	if err := s.buildSchedules(cfg.Schedules); err != nil {
		t.Error(err)
	}
	if err := s.buildListener(cfg.Serve); err != nil {
		t.Error(err)
	}
	if cfg.Serve.History != "/var/lib/hvaudit/history.db" || cfg.Serve.RetentionDays != 400 || len(s.Schedules) != 1 || s.Schedules[0].Jitter.Minutes() != 5 {
		t.Errorf("example: %+v %+v", cfg.Serve, s.Schedules)
	}
}
