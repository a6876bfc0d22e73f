package hyperv

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors"
)

func TestParseURI(t *testing.T) {
	cases := []struct {
		uri, host, user, auth, shown string
		local                        bool
		port                         int
		err                          string
	}{
		{uri: "hyperv://localhost", local: true, host: "localhost", shown: "hyperv://localhost"},
		{uri: "hyperv:///", local: true, shown: "hyperv://localhost"},
		{uri: "hyperv://hv01", host: "hv01", shown: "hyperv://hv01"},
		{uri: "hyperv://auditor@hv01:15986", host: "hv01", user: "auditor", port: 15986, shown: "hyperv://auditor@hv01:15986"},
		{uri: "hyperv://CORP%5Cauditor@hv01", host: "hv01", user: `CORP\auditor`, shown: "hyperv://CORP%5Cauditor@hv01"},
		{uri: "hyperv://auditor@hv01?auth=kerberos&realm=CORP.EXAMPLE&ccache=/tmp/cc", host: "hv01", user: "auditor", auth: "kerberos", shown: "hyperv://auditor@hv01?auth=kerberos"},
		{uri: "hyperv://localhost:5986", host: "localhost", port: 5986, shown: "hyperv://localhost:5986"},
		{uri: "hyperv://auditor:pw@hv01", err: "embeds a password"},
		{uri: "hyperv://auditor@localhost", err: "current account"},
		{uri: "hyperv://hv01?auth=basic", err: "not supported"},
		{uri: "hyperv://hv01?cmd=x", err: "unknown parameter"},
		{uri: "hyperv://hv01/root", err: "no path"},
		{uri: "vsphere://hv01", err: "not a hyperv"},
	}
	for _, c := range cases {
		u, err := parseURI(c.uri)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want %q", c.uri, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.uri, err)
			continue
		}
		if u.Local != c.local || u.Host != c.host || u.User != c.user || u.Port != c.port || u.Auth != c.auth || shownURI(u) != c.shown {
			t.Errorf("%s: %+v shown %s", c.uri, u, shownURI(u))
		}
		if strings.Contains(shownURI(u), "ccache") {
			t.Errorf("%s: recorded URI names a local file", c.uri)
		}
	}
}

func TestRegistered(t *testing.T) {
	c, err := collectors.ForURI("hyperv://hv01")
	if err != nil || c.Platform() != "hyperv" {
		t.Errorf("ForURI: %v", err)
	}
	if c, err := collectors.ForPlatform("hyperv"); err != nil || c.Platform() != "hyperv" {
		t.Errorf("ForPlatform: %v", err)
	}
}

// TestFetchThroughReplay runs Fetch's whole path against a recorded host:
// the snapshot it writes normalizes to the same inventory as the fixture.
func TestFetchThroughReplay(t *testing.T) {
	for _, name := range fixtureCases {
		d := loadData(t, name)
		src := NewReplaySource(d)
		c := &Collector{open: func(context.Context, uriInfo, collectors.Target) (Source, error) { return src, nil }}
		snap, err := c.Fetch(context.Background(), collectors.Target{Name: "hv", URI: "hyperv://auditor@hv01", Password: collectors.NewSecret(testPassword)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		raw, _ := json.Marshal(snap)
		if strings.Contains(string(raw), testPassword) {
			t.Fatal("snapshot holds the password")
		}
		if snap.Schema != collectors.SnapshotSchema || snap.Platform != "hyperv" || snap.Target.URI != "hyperv://auditor@hv01" ||
			snap.Stats.Calls != len(Catalog)+len(Methods) || snap.Target.Transport.Method != "ca" {
			t.Errorf("%s: snapshot %+v", name, snap)
		}
		var got Data
		if err := json.Unmarshal(snap.Data, &got); err != nil {
			t.Fatal(err)
		}
		if got.Source != "replay" || len(got.Queries) != len(Catalog) || len(got.Methods) != 1 {
			t.Errorf("%s: data %+v", name, got)
		}
		want := normalizeCase(t, name)
		snap.CollectedAt = want.CollectedAt
		snap.Target = loadCase(t, name).Target
		inv, err := New().Normalize(snap)
		if err != nil {
			t.Fatal(err)
		}
		// Only the data's provenance (source, PowerShell version) may differ.
		if inv.Target.Settings["source"] != "replay" {
			t.Errorf("%s: source %q", name, inv.Target.Settings["source"])
		}
		inv.Target.Settings = want.Target.Settings
		a, _ := json.Marshal(inv)
		b, _ := json.Marshal(want)
		if string(a) != string(b) {
			t.Errorf("%s: fetched snapshot maps differently from the fixture\n%s", name, firstDiff(string(b), string(a)))
		}
	}
}

func TestCollectFailsWhenNothingAnswers(t *testing.T) {
	var d Data
	for _, q := range Catalog {
		d.Queries = append(d.Queries, QueryResult{Namespace: q.Namespace, Class: q.Class, Error: "Access denied"})
	}
	_, err := fetchData(context.Background(), NewReplaySource(&d))
	if err == nil || !strings.Contains(err.Error(), "answered no query") {
		t.Errorf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := fetchData(ctx, NewReplaySource(loadData(t, "compliant"))); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestCaptureScriptMatchesCatalog keeps capture/Get-HvauditSnapshot.ps1's
// query list, and its serialisation, equal to what the WinRM source runs.
func TestCaptureScriptMatchesCatalog(t *testing.T) {
	b, err := os.ReadFile("capture/Get-HvauditSnapshot.ps1")
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	row := regexp.MustCompile(`(?m)^\s*@\{\s*Namespace\s*=\s*'([^']+)';\s*Class\s*=\s*'([^']+)';\s*Properties\s*=\s*@\(([^)]*)\)`)
	rows := row.FindAllStringSubmatch(script, -1)
	if len(rows) != len(Catalog) {
		t.Fatalf("script lists %d queries, Catalog has %d", len(rows), len(Catalog))
	}
	for i, r := range rows {
		q := Catalog[i]
		var props []string
		for _, p := range strings.Split(r[3], ",") {
			props = append(props, strings.Trim(strings.TrimSpace(p), "'"))
		}
		if r[1] != q.Namespace || r[2] != q.Class || strings.Join(props, ",") != strings.Join(q.Properties, ",") {
			t.Errorf("query %d: script %s %s %v, Catalog %s %s %v", i, r[1], r[2], props, q.Namespace, q.Class, q.Properties)
		}
	}
	for _, must := range []string{
		"Select-Object -Property $q.Properties | ConvertTo-Json -Depth 4 -Compress",
		"Invoke-CimMethod -Namespace 'root\\cimv2' -ClassName 'StdRegProv' -MethodName 'GetDWORDValue'",
		"hvaudit/snapshot/v1", "'hyperv'",
	} {
		if !strings.Contains(script, must) {
			t.Errorf("script lacks %q", must)
		}
	}
	for _, verb := range []string{"Set-CimInstance", "Invoke-Expression", "Remove-", "Set-Item"} {
		if strings.Contains(script, verb) {
			t.Errorf("script contains %q", verb)
		}
	}
}
