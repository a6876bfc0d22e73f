package agent

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/configs"
)

// DemoOptions configure `hvaudit demo`.
type DemoOptions struct {
	Dir string // where report files go
	Out io.Writer
	Log zerolog.Logger
}

// Demo audits the embedded simulated estate exactly as a real one is
// audited: over HTTPS with the certificate pinned, read-only, through the
// same collector, engine and writers.
func Demo(ctx context.Context, o DemoOptions) error {
	estate, err := esxisim.LoadEstate(configs.Demo, "demo/vsphere.toml")
	if err != nil {
		return err
	}
	fmt.Fprintln(o.Out, "Starting the simulated vSphere estate (govmomi simulator, in-process)…")
	sim, err := esxisim.Start(ctx, estate, esxisim.Options{})
	if err != nil {
		return fmt.Errorf("starting the simulator: %w", err)
	}
	defer sim.Close()
	t := collectors.Target{
		Name:     "vcsa-demo",
		URI:      "vsphere://" + sim.Username + "@" + sim.URL.Host,
		Password: collectors.NewSecret(sim.Password),
		TLS:      collectors.TLSOptions{Thumbprint: sim.Thumbprint},
		Timeout:  5 * time.Minute,
	}
	fmt.Fprintf(o.Out, "Auditing %s (certificate pinned: %s)\n\n", collectors.Redact(t.URI), sim.Thumbprint)
	run, err := Audit(ctx, Request{Targets: []collectors.Target{t}, Log: o.Log})
	if err != nil {
		return err
	}
	for _, tr := range run.Targets {
		if tr.Status != "ok" {
			return fmt.Errorf("the demo audit could not read %s: %s", tr.Name, tr.Error)
		}
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return err
	}
	files := []Output{
		{Format: "json", Path: filepath.Join(o.Dir, "report.json")},
		{Format: "table", Path: filepath.Join(o.Dir, "report.txt")},
		{Format: "table"},
	}
	if err := WriteOutputs(run, files, o.Out); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "\nReports written to %s/ (report.json, report.txt).\n", o.Dir)
	return nil
}
