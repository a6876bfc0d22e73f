package drift

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/report"
)

// run builds a one-target run; findings are "check/object=status", with
// "waived:fail" for a waived finding observed as fail.
func run(id, baselineSHA, advSHA string, specs ...string) *report.Run {
	var fs []findings.Finding
	for _, s := range specs {
		key, st, _ := strings.Cut(s, "=")
		check, obj, _ := strings.Cut(key, "/")
		area := "migration-encryption"
		if strings.HasPrefix(check, "PATCH") {
			area = "patch"
		}
		f := findings.Finding{CheckID: check, Title: check + " title", Area: area, Severity: findings.SeverityHigh,
			Status: findings.Status(st), Target: "vc01", Object: findings.ObjectRef{Kind: "vm", ID: "id-" + obj, Name: obj}}
		if obs, ok := strings.CutPrefix(st, "waived:"); ok {
			f.Status, f.ObservedStatus = findings.StatusWaived, findings.Status(obs)
		}
		fs = append(fs, f)
	}
	return &report.Run{Schema: report.Schema,
		Run: report.RunInfo{ID: id, Started: time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC),
			Baseline: report.BaselineInfo{SHA256: baselineSHA}, Advisories: report.AdvisoriesInfo{SHA256: advSHA}},
		Targets: []report.TargetResult{{Name: "vc01", Status: report.TargetOK}}, Findings: fs, Summary: findings.Summarize(fs, nil)}
}

func describe(events []Event) string {
	var out []string
	for _, e := range events {
		out = append(out, e.CheckID+"/"+e.Object.Name+":"+string(e.Class)+":"+e.OldStatus+">"+e.NewStatus+":"+e.Cause)
	}
	return strings.Join(out, " ")
}

func TestDetect(t *testing.T) {
	prev := run("r1", "B1", "A1", "MIG/web=pass", "MIG/db=fail", "MIG/app=pass", "MIG/old=pass", "PATCH/host=pass", "MIG/ok=pass", "MIG/w=pass")
	cases := []struct {
		name     string
		cur      *report.Run
		want     string
		aliases  map[string]string
		previous *report.Run
	}{
		{name: "first run has no drift", previous: nil, cur: run("r2", "B1", "A1", "MIG/web=fail")},
		{name: "new failure, regression, a new object failing; fixed and removed are not drift",
			cur:  run("r2", "B1", "A1", "MIG/web=fail", "MIG/db=error", "MIG/app=pass", "MIG/new=fail", "PATCH/host=pass", "MIG/ok=pass", "MIG/w=pass"),
			want: "MIG/db:regressed:fail>error:estate-changed MIG/new:new_failure:absent>fail:estate-changed MIG/web:new_failure:pass>fail:estate-changed"},
		{name: "a waived new failure is an accepted risk",
			cur: run("r2", "B1", "A1", "MIG/web=waived:fail", "MIG/db=fail", "MIG/app=pass", "MIG/old=pass", "PATCH/host=pass", "MIG/ok=pass", "MIG/w=pass")},
		{name: "a changed baseline is named as the cause",
			cur:  run("r2", "B2", "A2", "MIG/web=fail", "MIG/db=fail", "MIG/app=pass", "MIG/old=pass", "PATCH/host=fail", "MIG/ok=pass", "MIG/w=pass"),
			want: "PATCH/host:new_failure:pass>fail:baseline-changed MIG/web:new_failure:pass>fail:baseline-changed"},
		{name: "changed advisory data is the cause of patch findings only",
			cur:  run("r2", "B1", "A2", "MIG/web=fail", "MIG/db=fail", "MIG/app=pass", "MIG/old=pass", "PATCH/host=fail", "MIG/ok=pass", "MIG/w=pass"),
			want: "PATCH/host:new_failure:pass>fail:advisories-changed MIG/web:new_failure:pass>fail:estate-changed"},
		{name: "a renamed check pairs with its successor",
			cur:     run("r2", "B1", "A1", "MIG2/web=pass", "MIG2/db=fail", "MIG2/app=fail", "MIG2/old=pass", "PATCH/host=pass", "MIG2/ok=pass", "MIG2/w=pass"),
			aliases: map[string]string{"MIG": "MIG2"},
			want:    "MIG2/app:new_failure:pass>fail:estate-changed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := prev
			if c.name == "first run has no drift" {
				p = c.previous
			}
			got := Detect(p, c.cur, c.aliases)
			if describe(got) != c.want {
				t.Errorf("events:\n got %s\nwant %s", describe(got), c.want)
			}
			for _, e := range got {
				if e.RunID != "r2" || e.PreviousRunID != "r1" || e.Target != "vc01" || e.Object.ID != "id-"+e.Object.Name || e.Severity != findings.SeverityHigh {
					t.Errorf("event fields: %+v", e)
				}
			}
		})
	}
}

// TestWebhookSignsAndRetries: the receiver can verify the body with the
// shared secret; a 503 is retried, a 400 is not.
func TestWebhookSignsAndRetries(t *testing.T) {
	secret := []byte("s3cret")
	var calls atomic.Int32
	var got Payload
	var sig string
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		sig, body = r.Header.Get(SignatureHeader), b
		if r.Header.Get("Content-Type") != "application/json" || !Verify(secret, b, sig) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.Unmarshal(b, &got)
	}))
	defer srv.Close()
	prev := run("r1", "B", "A", "MIG/web=pass")
	cur := run("r2", "B", "A", "MIG/web=fail")
	wh := &Webhook{URL: srv.URL, Secret: secret, Backoff: 10 * time.Millisecond}
	if err := wh.Send(context.Background(), NewPayload(Detect(prev, cur, nil))); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || got.Schema != PayloadSchema || got.Target != "vc01" || got.RunID != "r2" || len(got.Events) != 1 ||
		got.Events[0].Object.Name != "web" || got.Events[0].NewStatus != "fail" {
		t.Errorf("%d calls; payload %+v", calls.Load(), got)
	}
	// What a receiver computes, independently of Sign.
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); sig != want {
		t.Errorf("signature header %q, want %q", sig, want)
	}
	if Verify([]byte("other"), []byte("{}"), Sign(secret, []byte("{}"))) {
		t.Error("a signature verified under another secret")
	}

	calls.Store(0)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer bad.Close()
	err := (&Webhook{URL: bad.URL + "/hook/TOKEN?key=x", Backoff: time.Millisecond}).Send(context.Background(), NewPayload(nil))
	if err == nil || calls.Load() != 1 || strings.Contains(err.Error(), "TOKEN") || strings.Contains(err.Error(), "key=x") {
		t.Errorf("a 400: %d calls, error %v (the URL's path and query must not show)", calls.Load(), err)
	}
}

func TestCheckURL(t *testing.T) {
	for _, c := range []struct{ url, warn, err string }{
		{"https://hooks.example/h", "", ""},
		{"http://127.0.0.1:8080/h", "", ""},
		{"http://hooks.example/h", "plain http", ""},
		{"ftp://hooks.example/h", "", "use https"},
		{"https://user:pw@hooks.example/h", "", "credentials"},
	} {
		w, err := CheckURL(c.url)
		if (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: error %v, want %q", c.url, err, c.err)
		}
		if (c.warn == "") != (w == "") || !strings.Contains(w, c.warn) {
			t.Errorf("%s: warning %q, want %q", c.url, w, c.warn)
		}
	}
}
