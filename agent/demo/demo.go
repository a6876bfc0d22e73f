// Package demo is `hvaudit demo`: it starts the embedded simulated estates
// (govmomi's simulator, libvirt's test driver) and audits them through the
// agent like any other target.
package demo

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/configs"
	"github.com/hvaudit/hvaudit/report"
)

// Options configure `hvaudit demo`.
type Options struct {
	Dir string // where report files go
	Out io.Writer
	Log zerolog.Logger
	// Now, when set, is the audit's clock (tests: advisory data's age).
	Now func() time.Time
	// Display shapes the report printed on Out (--verbose, --quiet,
	// --color); the report files are written as `audit` writes them.
	Display agent.Display
}

// Run audits the embedded simulated estate exactly as a real one is
// audited: over HTTPS with the certificate pinned, read-only, through the
// same collector, engine and writers.
func Run(ctx context.Context, o Options) error {
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
	// The thumbprint gets a line of its own: a terminal would wrap it
	// inside the hex, and it is what a reader compares or copies.
	fmt.Fprintf(o.Out, "Auditing %s, its certificate pinned by SHA-256 thumbprint\n  %s\n", collectors.Redact(t.URI), sim.Thumbprint)
	targets := []collectors.Target{t}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return err
	}
	kvm, err := demoKVMTarget(o.Out, filepath.Join(o.Dir, "kvm-estate"))
	if err != nil {
		return err
	}
	if kvm != nil {
		targets = append(targets, *kvm)
	}
	// The report files are checked before the audit, as for `audit`.
	files := []agent.Output{
		{Format: "json", Path: filepath.Join(o.Dir, "report.json")},
		{Format: "table", Path: filepath.Join(o.Dir, "report.txt")},
		{Format: "html", Path: filepath.Join(o.Dir, "report.html")},
		{Format: "csv", Path: filepath.Join(o.Dir, "report.csv")},
		{Format: "junit", Path: filepath.Join(o.Dir, "report.junit.xml")},
		{Format: "sarif", Path: filepath.Join(o.Dir, "report.sarif")},
		{Format: "oscal", Path: filepath.Join(o.Dir, "report.oscal.json")},
		{Format: "cklb", Path: filepath.Join(o.Dir, "cklb")}, // one STIG Viewer checklist per asset
		{Format: "table", Display: o.Display},
	}
	if err := agent.ValidateOutputs(files); err != nil {
		return err
	}
	fmt.Fprintln(o.Out)
	run, err := agent.Audit(ctx, agent.Request{Targets: targets, Log: o.Log, Now: o.Now})
	if err != nil {
		return err
	}
	for _, tr := range run.Targets {
		if tr.Status != "ok" {
			return fmt.Errorf("the demo audit could not read %s: %s", tr.Name, tr.Error)
		}
	}
	if _, err := agent.WriteOutputs(run, files, o.Out); err != nil {
		return err
	}
	agent.NoteChecklists(run, files, o.Log)
	writeDeliberateGaps(o.Out, run, estate.DeliberateGaps)
	fmt.Fprintf(o.Out, "\nReports written to %s/: report.json, .txt, .html, .csv, .junit.xml, .sarif, .oscal.json,\nand cklb/ with a STIG Viewer checklist per asset.\n", o.Dir)
	return nil
}

// writeDeliberateGaps names the demo's error findings that its estate leaves
// on purpose, so a first run does not read as broken, and any other error
// finding as not deliberate. Gaps with one reason share a line.
func writeDeliberateGaps(w io.Writer, run *report.Run, gaps []esxisim.DeliberateGap) {
	deliberate := 0
	var others []string
	for _, f := range run.Findings {
		if f.Status != findings.StatusError {
			continue
		}
		if slices.ContainsFunc(gaps, func(g esxisim.DeliberateGap) bool {
			return g.Check == f.CheckID && slices.Contains(g.Objects, f.Object.Name)
		}) {
			deliberate++
			continue
		}
		others = append(others, f.CheckID+" on "+f.Object.Name)
	}
	type line struct{ checks, objects []string }
	byWhy := map[string]*line{}
	var whys []string
	for _, g := range gaps {
		for _, f := range run.Findings {
			if f.Status != findings.StatusError || f.CheckID != g.Check || !slices.Contains(g.Objects, f.Object.Name) {
				continue
			}
			l := byWhy[g.Why]
			if l == nil {
				l = &line{}
				byWhy[g.Why] = l
				whys = append(whys, g.Why)
			}
			if !slices.Contains(l.checks, g.Check) {
				l.checks = append(l.checks, g.Check)
			}
			if !slices.Contains(l.objects, f.Object.Name) {
				l.objects = append(l.objects, f.Object.Name)
			}
		}
	}
	if deliberate > 0 {
		fmt.Fprintf(w, "\nThe demo's %d error findings are deliberate gaps, to show what error means: a value\nhvaudit could not read, with the reason. Real estates have these too.\n", deliberate)
		for _, why := range whys {
			l := byWhy[why]
			indent := "  "
			for _, s := range wordWrap(strings.Join(l.checks, ", ")+" on "+strings.Join(l.objects, ", ")+": "+why, report.DefaultWidth-6) {
				fmt.Fprintf(w, "%s%s\n", indent, s)
				indent = "      " // continuation lines hang under the first
			}
		}
	}
	if len(others) > 0 {
		fmt.Fprintf(w, "%d error findings are not deliberate: %s\n", len(others), strings.Join(others, ", "))
	}
}

// wordWrap breaks s at spaces into lines of at most width runes (a longer
// word keeps a line of its own).
func wordWrap(s string, width int) []string {
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case len([]rune(line))+1+len([]rune(word)) <= width:
			line += " " + word
		default:
			out = append(out, line)
			line = word
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}

// demoSymlinks creates the symbolic links the host tree's /proc needs
// (exe and fd entries), which go:embed cannot hold, from the manifest
// hostroot.symlinks ("path target" per line).
func demoSymlinks(sub fs.FS, dir string) error {
	b, err := fs.ReadFile(sub, "hostroot.symlinks")
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		p, target, ok := strings.Cut(l, " ")
		if !ok || strings.Contains(p, "..") {
			return fmt.Errorf("hostroot.symlinks: bad line %q", l)
		}
		full := filepath.Join(dir, "hostroot", filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(target, full); err != nil {
			return err
		}
	}
	return nil
}

// demoKVMTarget unpacks the embedded libvirt test-driver estate (a node XML
// and a host_root tree of qemu.conf, libvirtd.conf, /sys files) into dir,
// next to the reports, and returns its target, or nil with a hint when
// libvirt's client library is missing. The test driver needs an absolute
// path; one under the demo's own directory, rather than a temporary one,
// is what the reports then show and what a reader can open.
func demoKVMTarget(out io.Writer, dir string) (*collectors.Target, error) {
	kvm, err := collectors.ForPlatform(inventory.PlatformKVM)
	if err == nil {
		err = collectors.Available(kvm)
	}
	if err != nil {
		fmt.Fprintf(out, "Skipping the KVM part of the demo: %v.\n  To include it: apt-get install libvirt0 (and build with -tags libvirt_dlopen, as make does).\n", err)
		return nil, nil
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(configs.Demo, "demo/kvm")
	if err != nil {
		return nil, err
	}
	// A previous demo's copy is replaced: os.CopyFS never overwrites.
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.CopyFS(dir, sub); err != nil {
		return nil, fmt.Errorf("unpacking the KVM demo estate: %w", err)
	}
	if err := demoSymlinks(sub, dir); err != nil {
		return nil, fmt.Errorf("unpacking the KVM demo estate: %w", err)
	}
	t := &collectors.Target{
		Name: "kvm-demo",
		// hvaudit_rw opens the test driver read-write so console passwords
		// can be told apart from unknown; a real host stays read-only.
		URI:      "test://" + filepath.ToSlash(filepath.Join(dir, "node.xml")) + "?hvaudit_rw=1",
		HostRoot: filepath.Join(dir, "hostroot"),
		Timeout:  time.Minute,
	}
	fmt.Fprintf(out, "Auditing kvm-demo (libvirt test driver, host files from %s)\n", dir)
	return t, nil
}
