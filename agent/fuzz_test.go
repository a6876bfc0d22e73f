package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors"
)

// Fuzz targets for the parsers of outside data the agent reads: the agent
// config and the snapshot envelope with each platform's Normalize behind
// it. Each writes the input to a file (the parsers read files, as in use)
// and requires: no panic; and what loads is consistent.

func fileOf(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func FuzzLoadConfig(f *testing.F) {
	if b, err := os.ReadFile("../configs/agent.example.toml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("concurrency = 4\ntimeout = \"5m\"\n[[target]]\nname = \"vc01\"\nuri = \"vsphere://a@vc01\"\npassword_env = \"X\"\n[[output]]\nformat = \"json\"\npath = \"-\"\n"))
	f.Add([]byte("[[target]]\nuri = \"qemu:///system\"\nhost_root = \"/\"\ntimeuot = \"5s\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadConfig(fileOf(t, "agent.toml", data))
		if err != nil {
			if !strings.Contains(err.Error(), "agent.toml") && !strings.HasPrefix(err.Error(), "config:") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		for i, tc := range c.Targets {
			if tc.URI == "" {
				t.Errorf("target %d loaded without a uri", i)
			}
			if tc.PasswordFile != "" && tc.PasswordEnv != "" {
				t.Errorf("target %d loaded with both password sources", i)
			}
		}
		for i, o := range c.Outputs {
			if o.Format == "" {
				t.Errorf("output %d loaded without a format", i)
			}
		}
	})
}

func FuzzReadSnapshot(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/snapshots/*.json")
	hv, _ := filepath.Glob("../collectors/hyperv/testdata/*/snapshot.json")
	for _, p := range append(seeds, hv...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"schema":"hvaudit/snapshot/v1","platform":"kvm","target":{"name":"x"},"data":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, err := ReadSnapshot(fileOf(t, "s.json", data))
		if err != nil {
			return
		}
		if snap.Schema != collectors.SnapshotSchema || snap.Platform == "" || len(snap.Data) == 0 {
			t.Fatalf("ReadSnapshot accepted schema %q platform %q, %d bytes of data", snap.Schema, snap.Platform, len(snap.Data))
		}
		c, err := collectors.ForPlatform(snap.Platform)
		if err != nil {
			return
		}
		inv, err := normalize(c, snap)
		if err != nil {
			return
		}
		if inv.Target.Name != snap.Target.Name {
			t.Errorf("normalize lost the target name: %q, want %q", inv.Target.Name, snap.Target.Name)
		}
	})
}
