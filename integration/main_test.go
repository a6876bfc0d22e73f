// Package integration runs the built hvaudit binary end to end against
// govmomi's simulator, started in the test process and reached over HTTPS
// on loopback exactly as a real vCenter would be.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
	_ "github.com/hvaudit/hvaudit/collectors/all" // the tests that audit in-process link the collectors as the command does
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/configs"
	"github.com/hvaudit/hvaudit/report"
)

// binary is the hvaudit built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hvaudit-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "hvaudit")
	build := exec.Command("go", "build", "-tags", "libvirt_dlopen", "-o", binary, "./agent/cmd/hvaudit")
	build.Dir = ".."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building hvaudit:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

func runHV(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("running hvaudit %v: %v", args, err)
	}
	return r
}

// startDemoSim starts the demo estate; standalone gives an ESXi host alone.
func startSim(t *testing.T, opts esxisim.Options) *esxisim.Sim {
	t.Helper()
	e, err := esxisim.LoadEstate(configs.Demo, "demo/vsphere.toml")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := esxisim.Start(context.Background(), e, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

// targetURI is the vsphere:// URI of a simulator, with its user.
func targetURI(sim *esxisim.Sim) string {
	return "vsphere://" + sim.Username + "@" + sim.URL.Host
}

// passwordFile writes the simulator's password to a 0600 file.
func passwordFile(t *testing.T, pw string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readRun(t *testing.T, path string) *report.Run {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := report.ValidateJSON(b); err != nil {
		t.Fatalf("%s does not validate against the report schema: %v", path, err)
	}
	var run report.Run
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatal(err)
	}
	return &run
}

// finding returns the finding of a check on a named object.
func finding(t *testing.T, run *report.Run, checkID, objectName string) findings.Finding {
	t.Helper()
	var names []string
	for _, f := range run.Findings {
		if f.CheckID == checkID {
			if f.Object.Name == objectName {
				return f
			}
			names = append(names, f.Object.Name)
		}
	}
	t.Fatalf("no %s finding for %q (objects with that check: %s)", checkID, objectName, strings.Join(names, ", "))
	return findings.Finding{}
}

func assertStatus(t *testing.T, run *report.Run, checkID, object string, want findings.Status) findings.Finding {
	t.Helper()
	f := finding(t, run, checkID, object)
	if f.Status != want {
		t.Errorf("%s on %s: status %s, want %s (message: %s; evidence: %+v)", checkID, object, f.Status, want, f.Message, f.Evidence)
	}
	return f
}
