package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/report/stig"
)

// cklbWriter writes DISA STIG Viewer 3 checklists (CKLB, JSON) for DoD
// assessors who work in STIG Viewer or STIG Manager: one checklist per
// asset, as STIG Viewer keeps them.
//
//   - The assets and their benchmarks come from the STIG catalog
//     (configs/stig, report/stig): the vCenter (vSphere 8.0 vCenter STIG),
//     each ESXi host (ESXi STIG), each vSphere VM (Virtual Machine STIG),
//     each Hyper-V host (the Windows Server STIG of its release, told by its
//     build). KVM hosts and Hyper-V VMs get none: DISA publishes no STIG
//     for them.
//   - Each checklist lists every rule of its benchmark with DISA's ids
//     (group_id V-…, rule_id SV-…r…, rule_id_src SV-…r…_rule, rule_version),
//     severity, CCIs and text, and the benchmark's stig_id, version and
//     release_info, so STIG Viewer and STIG Manager file it under the
//     benchmark they know.
//   - A rule's status sums up the findings of the checks that cite it
//     (refs.stig) on that asset: open if any is open, else not_reviewed if
//     any is, else not_a_finding if any passed, else not_applicable. Per
//     finding: pass → not_a_finding, fail → open, error → not_reviewed,
//     not_applicable → not_applicable, waived → open (a waiver accepts a
//     risk, it does not close the finding) with the waiver in comments.
//     A rule no check answers for the asset is not_reviewed, and its
//     comments say whether hvaudit automates it at all.
//   - A finding reaches the asset it is about: a host's, VM's or vCenter's
//     own findings; a VM's or standard port group's finding cited by the
//     ESXi STIG goes to its host (object.host); a distributed port group's
//     finding cited by the vCenter STIG goes to the vCenter.
//
// WriteDir writes one file per asset into a directory, named after the
// asset. Write (a stream) takes a run with exactly one asset.
type cklbWriter struct{}

func (cklbWriter) Format() string { return "cklb" }

// CKLBVersion is the cklb_version the writer emits.
const CKLBVersion = "1.0"

// CKLB rule statuses.
const (
	cklbNotAFinding   = "not_a_finding"
	cklbOpen          = "open"
	cklbNotApplicable = "not_applicable"
	cklbNotReviewed   = "not_reviewed"
)

// checklist is one asset's checklist and the file name it is written to.
// The document is built when asked for, so a run over thousands of VMs
// holds one checklist in memory at a time, not all of them.
type checklist struct {
	File     string
	HostName string
	Doc      func() *cklbDoc
}

func (cklbWriter) Write(w io.Writer, run *Run) error {
	lists, err := checklistsOf(run)
	if err != nil {
		return err
	}
	if len(lists) != 1 {
		return fmt.Errorf("cklb: %s; STIG Viewer takes one checklist per asset: give --output a directory to write one .cklb file per asset",
			describeChecklists(lists))
	}
	data, err := encodeCKLB(lists[0].Doc())
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// WriteDir writes one .cklb file per asset into dir (created 0750 if
// missing), each under the rules of every report file (WriteDestination:
// atomically, a strict existing mode kept, never through a symlink planted
// in the directory), and returns the paths written.
// A path ending in .cklb that is not a directory takes the checklist of a
// run with exactly one asset.
func (cklbWriter) WriteDir(dir string, run *Run) ([]string, error) {
	lists, err := checklistsOf(run)
	if err != nil {
		return nil, err
	}
	if fi, statErr := os.Stat(dir); strings.HasSuffix(strings.ToLower(dir), ".cklb") && (statErr != nil || !fi.IsDir()) {
		if len(lists) != 1 {
			return nil, fmt.Errorf("cklb: %s; give --output a directory to write one .cklb file per asset", describeChecklists(lists))
		}
		data, err := encodeCKLB(lists[0].Doc())
		if err != nil {
			return nil, err
		}
		if err := WriteDestination(dir, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return nil, err
		}
		return []string{dir}, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("cklb: %w", err)
	}
	var written []string
	for _, l := range lists {
		data, err := encodeCKLB(l.Doc())
		if err != nil {
			return written, err
		}
		p := filepath.Join(dir, l.File)
		if err := WriteDestination(p, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	return written, nil
}

func describeChecklists(lists []checklist) string {
	if len(lists) == 0 {
		return "no audited asset has a STIG benchmark (KVM hosts have none: DISA publishes no KVM STIG)"
	}
	names := make([]string, 0, 4)
	for i, l := range lists {
		if i == 3 {
			names = append(names, "…")
			break
		}
		names = append(names, l.HostName)
	}
	return fmt.Sprintf("%s (%s)", plural(len(lists), "asset"), strings.Join(names, ", "))
}

func encodeCKLB(doc *cklbDoc) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("cklb: %w", err)
	}
	return buf.Bytes(), nil
}

// checklistsOf builds the checklists of a run against the shipped catalog.
func checklistsOf(run *Run) ([]checklist, error) {
	r, err := prepare(run)
	if err != nil {
		return nil, err
	}
	cat, err := stig.Builtin()
	if err != nil {
		return nil, fmt.Errorf("cklb: STIG catalog: %w", err)
	}
	lists, _ := buildChecklists(r, cat)
	return lists, nil
}

// ChecklistNotes says what a run's checklists cannot show by themselves:
// assets that get a checklist written for another release of their
// product, or none because the catalog has no STIG for their release. The
// audit prints them when it writes checklists.
func ChecklistNotes(run *Run) ([]string, error) {
	r, err := prepare(run)
	if err != nil {
		return nil, err
	}
	cat, err := stig.Builtin()
	if err != nil {
		return nil, fmt.Errorf("cklb: STIG catalog: %w", err)
	}
	_, notes := buildChecklists(r, cat)
	slices.Sort(notes)
	return notes, nil
}

// cklbStatus maps one finding to a checklist status.
func cklbStatus(s findings.Status) string {
	switch s {
	case findings.StatusPass:
		return cklbNotAFinding
	case findings.StatusFail, findings.StatusWaived:
		return cklbOpen
	case findings.StatusNotApplicable:
		return cklbNotApplicable
	}
	return cklbNotReviewed
}

// cklbRank orders statuses for the roll-up: the worst one wins.
var cklbRank = map[string]int{cklbOpen: 3, cklbNotReviewed: 2, cklbNotAFinding: 1, cklbNotApplicable: 0}

// asset is one audited object that gets a checklist.
type asset struct {
	target   TargetResult
	kind, id string
	name     string
	bench    *stig.Benchmark
	// byRule holds the findings filed under each rule (by rule_version).
	byRule map[string][]findings.Finding
	// notes are said in the checklist's comments.
	notes []string
	// hostName is the checklist's target_data.host_name: the name, told
	// apart from another asset's of the same name.
	hostName string
}

type assetKey struct{ target, kind, id string }

// benchmarkFor is the benchmark whose checklists describe objects of kind
// on target t, release being the object's product release ("7.0.3"; "" when
// unknown). It is nil when the catalog has none; note, when set, says why
// an object the catalog covers for other releases gets no checklist, or
// gets one written for another release (the catalog has no benchmark of
// the object's own release): neither may pass unsaid.
func benchmarkFor(cat *stig.Catalog, t TargetResult, kind, release string) (b *stig.Benchmark, note string) {
	var other *stig.Benchmark // written for another release
	var builds []string       // the Windows Server builds the catalog covers
	for _, b := range cat.Benchmarks {
		a := b.Asset
		if a.Platform != t.Platform || a.Kind != kind {
			continue
		}
		if a.Product != "" && !strings.Contains(t.Product, a.Product) {
			continue
		}
		if a.OSBuild != "" && osBuild(t) != a.OSBuild {
			builds = append(builds, b.DisplayName+" (build "+a.OSBuild+")")
			continue
		}
		if a.Release != "" && release != "" && !sameRelease(release, a.Release) {
			if other == nil {
				other = b
			}
			continue
		}
		return b, ""
	}
	switch {
	case other != nil:
		return other, fmt.Sprintf("runs release %s, for which hvaudit's STIG catalog has no benchmark: this checklist is the %s STIG, written for release %s, so its rules may not match DISA's STIG for %s.",
			release, other.DisplayName, other.Asset.Release, release)
	case len(builds) > 0:
		build := osBuild(t)
		if build == "" {
			build = "unknown"
		}
		return nil, fmt.Sprintf("gets no checklist: its Windows build (%s) has no STIG in hvaudit's catalog, which has %s.", build, strings.Join(builds, ", "))
	}
	return nil, ""
}

// sameRelease reports whether version belongs to release: "8.0.3" and
// "8.0" do, "7.0.3" and "8.0" do not, "8.01" and "8.0" do not.
func sameRelease(version, release string) bool {
	return version == release || strings.HasPrefix(version, release+".")
}

// osBuild is a Windows target's build number (20348 of "20348.2340" or of
// version "10.0.20348.2340").
func osBuild(t TargetResult) string {
	if b, _, _ := strings.Cut(t.Build, "."); b != "" {
		return b
	}
	if parts := strings.Split(t.Version, "."); len(parts) >= 3 {
		return parts[2]
	}
	return ""
}

// buildChecklists builds one checklist per asset, and the notes the run's
// output must carry: assets the catalog covers only for other releases.
func buildChecklists(r *Run, cat *stig.Catalog) ([]checklist, []string) {
	targets := map[string]TargetResult{}
	for _, t := range r.Targets {
		targets[t.Name] = t
	}
	targetOf := func(name string) TargetResult {
		if t, ok := targets[name]; ok {
			return t
		}
		return TargetResult{Name: name}
	}
	assets := map[assetKey]*asset{}
	seen := map[assetKey]bool{}
	var notes []string
	add := func(t TargetResult, kind, id, name string) {
		k := assetKey{t.Name, kind, id}
		if seen[k] {
			return
		}
		seen[k] = true
		name = orDefault(name, id)
		b, note := benchmarkFor(cat, t, kind, objectRelease(t, kind, id))
		if note != "" {
			notes = append(notes, clean(assetWords[kind]+" "+name+" of target "+t.Name+" "+note, false))
		}
		if b != nil {
			a := &asset{target: t, kind: kind, id: id, name: name, bench: b, byRule: map[string][]findings.Finding{}}
			if note != "" {
				a.note("This " + strings.ToLower(assetWords[kind]) + " " + note)
			}
			assets[k] = a
		}
	}
	// The assets: audited targets themselves (a vCenter), and every host
	// and VM a finding is about.
	for _, t := range r.Targets {
		if t.Status == TargetOK {
			add(t, inventory.KindTarget, t.Name, t.Name)
		}
	}
	for _, f := range r.Findings {
		if f.Object.Kind == inventory.KindHost || f.Object.Kind == inventory.KindVM {
			add(targetOf(f.Target), f.Object.Kind, f.Object.ID, f.Object.Name)
		}
	}

	// Each finding goes, per STIG id it cites, to the asset that rule's
	// benchmark describes.
	automated := map[string][]string{} // rule_version → checks citing it
	for _, f := range r.Findings {
		own := assets[assetKey{f.Target, f.Object.Kind, f.Object.ID}]
		// Ids of another release of the asset's own product (a Windows
		// Server 2022 rule on a 2019 host) are said only when no id of the
		// check reached the asset's own benchmark.
		var otherRelease []string
		filedOwn := false
		for _, id := range f.Refs.STIG {
			id = strings.TrimSpace(id)
			ref, ok := cat.Lookup(id)
			if !ok {
				if own != nil {
					own.note(fmt.Sprintf("Check %s cites %s, which is not a rule of any benchmark hvaudit knows.", f.CheckID, id))
				}
				continue
			}
			if !slices.Contains(automated[id], f.CheckID) {
				automated[id] = append(automated[id], f.CheckID)
			}
			a := assetFor(assets, f, ref.Benchmark)
			if a == nil {
				if own != nil && own.bench.Asset.Platform == ref.Benchmark.Asset.Platform && own.bench.Asset.Kind == ref.Benchmark.Asset.Kind {
					otherRelease = append(otherRelease, id+" ("+ref.Benchmark.DisplayName+")")
				}
				continue
			}
			filedOwn = filedOwn || a == own
			a.byRule[id] = append(a.byRule[id], f)
		}
		if own != nil && !filedOwn && len(otherRelease) > 0 {
			own.note(fmt.Sprintf("Check %s cites %s, not a rule of this asset's benchmark (%s): its result is not in this checklist.",
				f.CheckID, strings.Join(otherRelease, ", "), own.bench.DisplayName))
		}
	}

	ctx := cklbContext{
		tool:  strings.TrimSpace(orDefault(r.Tool.Name, "hvaudit") + " " + r.Tool.Version),
		base:  strings.TrimSpace(r.Run.Baseline.ID + " " + r.Run.Baseline.Version),
		stamp: oscalTime(r.Run.Finished, r.Run.Started).Format("2006-01-02T15:04:05.000Z"),
		run:   r,
	}
	list := make([]*asset, 0, len(assets))
	for _, a := range assets {
		list = append(list, a)
	}
	kindOrder := map[string]int{inventory.KindTarget: 0, inventory.KindHost: 1, inventory.KindVM: 2}
	slices.SortFunc(list, func(x, y *asset) int {
		if c := strings.Compare(x.target.Name, y.target.Name); c != 0 {
			return c
		}
		if c := kindOrder[x.kind] - kindOrder[y.kind]; c != 0 {
			return c
		}
		if c := strings.Compare(x.name, y.name); c != 0 {
			return c
		}
		return strings.Compare(x.id, y.id)
	})
	files := checklistFileNames(list)
	hostNames := checklistHostNames(list)
	out := make([]checklist, 0, len(list))
	for i, a := range list {
		a.hostName = hostNames[i]
		if a.hostName != a.name {
			a.note(fmt.Sprintf("Another asset of this run is also named %s: this checklist's host name is %s, so STIG Viewer and STIG Manager keep the two apart.", a.name, a.hostName))
		}
		out = append(out, checklist{File: files[i], HostName: clean(a.hostName, false), Doc: func() *cklbDoc { return ctx.doc(a, automated) }})
	}
	return out, notes
}

// assetWords name an asset's kind in a note.
var assetWords = map[string]string{inventory.KindTarget: "Management server", inventory.KindHost: "Host", inventory.KindVM: "VM"}

// objectRelease is the product release an asset runs, "" when unknown: a
// target's own version, a host's from the target's host list.
func objectRelease(t TargetResult, kind, id string) string {
	switch kind {
	case inventory.KindTarget:
		return t.Version
	case inventory.KindHost:
		for _, h := range t.Hosts {
			if h.ID == id {
				return h.Version
			}
		}
	}
	return ""
}

// checklistHostNames gives each asset the host_name its checklist carries:
// its own name, unless another asset of the run has the same name (case
// aside), which STIG Manager would take for the same asset and merge.
// Those are qualified by the first of their target, their object id, or
// both, that tells them all apart.
func checklistHostNames(list []*asset) []string {
	out := make([]string, len(list))
	groups := map[string][]int{}
	for i, a := range list {
		out[i] = a.name
		groups[strings.ToLower(a.name)] = append(groups[strings.ToLower(a.name)], i)
	}
	for _, idx := range groups {
		if len(idx) < 2 {
			continue
		}
		for _, qualify := range []func(*asset) string{
			func(a *asset) string { return a.target.Name },
			func(a *asset) string { return a.id },
			func(a *asset) string { return a.target.Name + "/" + a.id },
		} {
			names := map[string]bool{}
			for _, i := range idx {
				names[strings.ToLower(qualify(list[i]))] = true
			}
			if len(names) == len(idx) {
				for _, i := range idx {
					out[i] = list[i].name + " (" + qualify(list[i]) + ")"
				}
				break
			}
		}
	}
	return out
}

// assetFor is the asset of benchmark b a finding belongs to, nil when the
// rule does not concern the finding's object (an ESXi switch rule on a
// distributed port group, a vCenter rule on a standard one).
func assetFor(assets map[assetKey]*asset, f findings.Finding, b *stig.Benchmark) *asset {
	var k assetKey
	switch {
	case b.Asset.Kind == f.Object.Kind:
		k = assetKey{f.Target, f.Object.Kind, f.Object.ID}
	case b.Asset.Kind == inventory.KindHost && f.Object.Host != "":
		k = assetKey{f.Target, inventory.KindHost, f.Object.Host}
	case b.Asset.Kind == inventory.KindTarget && f.Object.Kind == inventory.KindNetwork && f.Object.Host == "":
		k = assetKey{f.Target, inventory.KindTarget, f.Target}
	default:
		return nil
	}
	if a := assets[k]; a != nil && a.bench == b {
		return a
	}
	return nil
}

func (a *asset) note(s string) {
	if !slices.Contains(a.notes, s) {
		a.notes = append(a.notes, s)
	}
}

// checklistFileNames names each asset's file after the asset. Characters
// a file system may refuse become "_"; names that would collide (two VMs
// of one name on different hosts or targets) all get a short digest of the
// asset's identity, so no run order decides which one keeps the plain name.
func checklistFileNames(list []*asset) []string {
	base := make([]string, len(list))
	count := map[string]int{}
	for i, a := range list {
		base[i] = safeFileName(a.name)
		count[strings.ToLower(base[i])]++
	}
	out := make([]string, len(list))
	for i, a := range list {
		name := base[i]
		if count[strings.ToLower(name)] > 1 || name == "" {
			sum := sha256.Sum256([]byte(a.target.Name + "\x00" + a.kind + "\x00" + a.id))
			name = strings.TrimSuffix(name+"-"+a.kind+"-"+hex.EncodeToString(sum[:4]), "-")
		}
		out[i] = name + ".cklb"
	}
	return out
}

// safeFileName keeps letters, digits, '.', '-' and '_' (at most 120
// bytes); device names Windows reserves get a trailing "_".
func safeFileName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
		if b.Len() >= 120 {
			break
		}
	}
	name := strings.TrimLeft(b.String(), ".")
	stem, _, _ := strings.Cut(strings.ToUpper(name), ".")
	if slices.Contains([]string{"CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9"}, stem) {
		name += "_"
	}
	return name
}

var _ DirWriter = cklbWriter{}
