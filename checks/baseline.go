package checks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/google/cel-go/cel"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/configs"
)

// Check is one baseline check, as loaded and tailored.
type Check struct {
	ID       string `toml:"id" json:"id"`
	Title    string `toml:"title" json:"title"`
	Platform string `toml:"platform" json:"platform"`
	Scope    string `toml:"scope" json:"scope"`
	Area     string `toml:"area" json:"area"`
	// Threats say what the check protects against (vocabulary: Threats).
	Threats []string `toml:"threats" json:"threats"`
	// Aliases are ids this check had before it was renamed or replaced:
	// tailoring, waivers, `checks show` and diff follow them.
	Aliases     []string          `toml:"aliases" json:"aliases,omitempty"`
	Severity    findings.Severity `toml:"severity" json:"severity"`
	Applies     string            `toml:"applies" json:"applies,omitempty"`
	Expr        string            `toml:"expr" json:"expr"`
	Expected    string            `toml:"expected" json:"expected"`
	Evidence    []string          `toml:"evidence" json:"evidence"`
	Rationale   string            `toml:"rationale" json:"rationale"`
	Remediation string            `toml:"remediation" json:"remediation"`
	Refs        findings.Refs     `toml:"refs" json:"refs"`
	// WhenUnavailable is the status when a value the check reads is absent
	// because the object's API release predates it (a gap with Since):
	// "error" (the default: the requirement stands, hvaudit cannot read it)
	// or "not_applicable" (the benchmark for that release has no such
	// requirement). Never pass.
	WhenUnavailable findings.Status `toml:"when_unavailable" json:"when_unavailable,omitempty"`

	// Enabled is false when a tailoring file turned the check off.
	Enabled bool `toml:"-" json:"enabled"`
	// File and Line locate the check's [[check]] table.
	File string `toml:"-" json:"file"`
	Line int    `toml:"-" json:"line"`

	lines map[string]int // key → line, for errors found after decoding
	prog  *program
}

// Baseline is a loaded baseline: its own checks plus those of the baselines
// it extends.
type Baseline struct {
	ID          string
	Version     string
	Title       string
	Description string
	Extends     string
	// Source names the file (or builtin:NAME) loaded.
	Source string
	// SHA256 is over the source bytes of this file and of every baseline
	// it extends, so a change anywhere in the chain changes the identity.
	SHA256 string
	// TailoringSHA256 is the tailoring file's digest, "" when untailored.
	TailoringSHA256 string

	params      map[string]any
	paramsS     *schema
	checks      []*Check
	envs        map[string]*cel.Env
	paramsFiles map[string]string // param → file that set it
}

type baselineFile struct {
	ID          string         `toml:"id"`
	Version     string         `toml:"version"`
	Title       string         `toml:"title"`
	Description string         `toml:"description"`
	Extends     string         `toml:"extends"`
	Include     []string       `toml:"include"`
	Params      map[string]any `toml:"params"`
	Checks      []*Check       `toml:"check"`
}

const builtinPrefix = "builtin:"

// readRef reads a baseline reference: builtin:NAME from the embedded
// baselines, anything else as a file path (relative to dir when not
// absolute). It returns the name errors should use.
func readRef(ref, dir string) (name string, data []byte, err error) {
	if n, ok := strings.CutPrefix(ref, builtinPrefix); ok {
		if n == "" || strings.ContainsAny(n, `/\`) {
			return "", nil, fmt.Errorf("baseline %q: not a builtin name", ref)
		}
		data, err := configs.Baselines.ReadFile("baselines/" + n + ".toml")
		if err != nil {
			return "", nil, fmt.Errorf("baseline %q: no such builtin baseline", ref)
		}
		return "configs/baselines/" + n + ".toml", data, nil
	}
	p := ref
	if dir != "" && !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	data, err = os.ReadFile(p)
	if err != nil {
		return "", nil, fmt.Errorf("baseline: %w", err)
	}
	return p, data, nil
}

// LoadBaseline loads, validates and compiles a baseline: "builtin:NAME" or a
// file path. Every expression is type-checked against the model here, so a
// bad baseline fails before anything is audited.
func LoadBaseline(ref string) (*Baseline, error) {
	b, err := loadChain(ref, "", nil)
	if err != nil {
		return nil, err
	}
	if err := b.compile(); err != nil {
		return nil, err
	}
	return b, nil
}

func loadChain(ref, dir string, seen []string) (*Baseline, error) {
	name, data, err := readRef(ref, dir)
	if err != nil {
		return nil, err
	}
	if slices.Contains(seen, name) {
		return nil, fmt.Errorf("%s: extends itself through %s", name, strings.Join(seen, " → "))
	}
	var bf baselineFile
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&bf)
	if err != nil {
		return nil, tomlError(name, data, err)
	}
	loc := newLocator(data)
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown key %q", at(name, loc.keyLine(und[0])), und[0].String())
	}
	for _, k := range []struct{ key, val string }{{"id", bf.ID}, {"version", bf.Version}, {"title", bf.Title}} {
		if k.val == "" {
			return nil, fmt.Errorf("%s: %s is required", name, k.key)
		}
	}
	h := sha256.New()
	h.Write(data)
	b := &Baseline{
		ID: bf.ID, Version: bf.Version, Title: bf.Title, Description: bf.Description,
		Extends: bf.Extends, Source: name,
		params: map[string]any{}, paramsFiles: map[string]string{},
	}
	if strings.HasPrefix(ref, builtinPrefix) {
		b.Source = ref
	}
	parentDir := ""
	if !strings.HasPrefix(ref, builtinPrefix) {
		parentDir = filepath.Dir(name)
	}
	if bf.Extends != "" {
		parent, err := loadChain(bf.Extends, parentDir, append(seen, name))
		if err != nil {
			return nil, fmt.Errorf("%s: extends %s: %w", at(name, loc.keyLine(toml.Key{"extends"})), bf.Extends, err)
		}
		h.Write([]byte(parent.SHA256))
		for k, v := range parent.params {
			b.params[k], b.paramsFiles[k] = v, parent.paramsFiles[k]
		}
		b.checks = append(b.checks, parent.checks...)
	}
	// include merges whole files (one per platform in builtin:default):
	// unlike extends, an included file may not override what another part
	// set, so two parts never silently disagree about a param or a check.
	for _, inc := range bf.Include {
		partRef := inc
		if strings.HasPrefix(ref, builtinPrefix) && !strings.HasPrefix(inc, builtinPrefix) {
			// A builtin's parts are builtins too, never files on disk.
			partRef = builtinPrefix + strings.TrimSuffix(inc, ".toml")
		}
		part, err := loadChain(partRef, parentDir, append(seen, name))
		if err != nil {
			return nil, fmt.Errorf("%s: include %s: %w", at(name, loc.keyLine(toml.Key{"include"})), inc, err)
		}
		h.Write([]byte(part.SHA256))
		for k, v := range part.params {
			if prev, dup := b.paramsFiles[k]; dup {
				return nil, fmt.Errorf("%s: include %s: params.%s is also set in %s", at(name, loc.keyLine(toml.Key{"include"})), inc, k, prev)
			}
			b.params[k], b.paramsFiles[k] = v, part.paramsFiles[k]
		}
		for _, c := range part.checks {
			if err := claimNames(b.checks, c); err != nil {
				return nil, err
			}
			b.checks = append(b.checks, c)
		}
	}
	b.SHA256 = hex.EncodeToString(h.Sum(nil))

	paramsLine := loc.sectionLine("params")
	for k, v := range bf.Params {
		if old, ok := b.params[k]; ok {
			want, _ := tomlCELType(old)
			if !assignable(want, v) {
				return nil, fmt.Errorf("%s: params.%s: must be %s like in %s", at(name, loc.blockKeyLine(paramsLine, k)),
					k, want, b.paramsFiles[k])
			}
		}
		b.params[k], b.paramsFiles[k] = v, name
	}

	for i, c := range bf.Checks {
		c.File, c.Line, c.Enabled = name, loc.tableLine("check", i), true
		c.lines = map[string]int{}
		for _, key := range []string{"id", "title", "platform", "scope", "area", "threats", "aliases", "severity", "applies", "expr", "expected", "evidence", "remediation", "refs", "when_unavailable"} {
			c.lines[key] = loc.blockKeyLine(c.Line, key)
		}
		if err := c.validate(); err != nil {
			return nil, err
		}
		if err := claimNames(b.checks, c); err != nil {
			return nil, err
		}
		b.checks = append(b.checks, c)
	}
	return b, nil
}

// claimNames refuses c when its id or an alias is already an id or alias
// of another check: ids and aliases share one namespace, so a waiver or a
// tailoring entry always means exactly one check.
func claimNames(existing []*Check, c *Check) error {
	for _, prev := range existing {
		for _, n := range append([]string{c.ID}, c.Aliases...) {
			if n == prev.ID || slices.Contains(prev.Aliases, n) {
				if n == c.ID && n == prev.ID {
					return c.errorf("id", "id is also used at %s:%d", prev.File, prev.Line)
				}
				key := "id"
				if n != c.ID {
					key = "aliases"
				}
				return c.errorf(key, "%s is also used at %s:%d (as an id or alias of check %s)", n, prev.File, prev.Line, prev.ID)
			}
		}
	}
	return nil
}

// Resolve returns the current id for id, following aliases; ok is false
// when no check has that id or alias.
func (b *Baseline) Resolve(id string) (string, bool) {
	for _, c := range b.checks {
		if c.ID == id || slices.Contains(c.Aliases, id) {
			return c.ID, true
		}
	}
	return "", false
}

// AliasMap maps every alias to the current id of its check.
func (b *Baseline) AliasMap() map[string]string {
	out := map[string]string{}
	for _, c := range b.checks {
		for _, a := range c.Aliases {
			out[a] = c.ID
		}
	}
	return out
}

// errorf formats an error about key of check c, at the key's line.
func (c *Check) errorf(key, format string, args ...any) error {
	line := c.lines[key]
	if line == 0 {
		line = c.Line
	}
	id := c.ID
	if id == "" {
		id = "(no id)"
	}
	return fmt.Errorf("%s: check %s: %s", at(c.File, line), id, fmt.Sprintf(format, args...))
}

func (c *Check) validate() error {
	for _, r := range []struct{ key, val string }{
		{"id", c.ID}, {"title", c.Title}, {"platform", c.Platform}, {"scope", c.Scope},
		{"area", c.Area}, {"severity", string(c.Severity)}, {"expr", c.Expr},
	} {
		if strings.TrimSpace(r.val) == "" {
			return c.errorf(r.key, "%s is required", r.key)
		}
	}
	if !slices.Contains(Platforms, c.Platform) {
		return c.errorf("platform", "platform %q is not one of %s", c.Platform, strings.Join(Platforms, ", "))
	}
	if !slices.Contains(Scopes, c.Scope) {
		return c.errorf("scope", "scope %q is not one of %s", c.Scope, strings.Join(Scopes, ", "))
	}
	if !slices.Contains(findings.Areas, c.Area) {
		return c.errorf("area", "area %q is not one of %s", c.Area, strings.Join(findings.Areas, ", "))
	}
	if c.Severity.Rank() < 0 {
		return c.errorf("severity", "severity %q is not one of critical, high, medium, low, info", c.Severity)
	}
	for _, t := range c.Threats {
		if !slices.Contains(findings.Threats, t) {
			return c.errorf("threats", "threat %q is not one of %s", t, strings.Join(findings.Threats, ", "))
		}
	}
	switch c.WhenUnavailable {
	case "", findings.StatusError, findings.StatusNotApplicable:
	default:
		return c.errorf("when_unavailable", "when_unavailable %q is not error or not_applicable", c.WhenUnavailable)
	}
	for _, a := range c.Aliases {
		if strings.TrimSpace(a) == "" || a == c.ID {
			return c.errorf("aliases", "alias %q must be another check's former id", a)
		}
	}
	return nil
}

var paramRefRE = regexp.MustCompile(`\{params\.([A-Za-z_][A-Za-z0-9_]*)\}`)

// compile type-checks every expression of every check; all errors are
// reported together so one load shows everything to fix.
func (b *Baseline) compile() error {
	s, err := paramsSchema(b.params)
	if err != nil {
		return fmt.Errorf("%s: %w", b.Source, err)
	}
	b.paramsS = s
	b.envs, err = newScopeEnvs(s)
	if err != nil {
		return fmt.Errorf("%s: %w", b.Source, err)
	}
	var errs []error
	for _, c := range b.checks {
		p, err := compileCheck(b.envs[c.Scope], c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, m := range paramRefRE.FindAllStringSubmatch(c.Expected, -1) {
			if _, ok := b.params[m[1]]; !ok {
				errs = append(errs, c.errorf("expected", "expected: no such param %q", m[1]))
			}
		}
		c.prog = p
	}
	if len(errs) > 0 {
		return joinErrors(errs)
	}
	return nil
}

// joinErrors joins errors one per line.
func joinErrors(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%s", strings.Join(msgs, "\n"))
}

// Checks returns the baseline's checks in file order, tailoring applied.
func (b *Baseline) Checks() []Check {
	out := make([]Check, len(b.checks))
	for i, c := range b.checks {
		out[i] = *c
		out[i].Evidence = slices.Clone(c.Evidence)
		out[i].Threats = slices.Clone(c.Threats)
		out[i].Aliases = slices.Clone(c.Aliases)
	}
	return out
}

// Check returns the check with the given id or alias.
func (b *Baseline) Check(id string) (Check, bool) {
	for _, c := range b.checks {
		if c.ID == id || slices.Contains(c.Aliases, id) {
			return *c, true
		}
	}
	return Check{}, false
}

// Params returns the baseline's params, tailoring applied.
func (b *Baseline) Params() map[string]any {
	out := make(map[string]any, len(b.params))
	for k, v := range b.params {
		out[k] = v
	}
	return out
}

type tailoringFile struct {
	Params map[string]any                `toml:"params"`
	Check  map[string]tailoringCheckFile `toml:"check"`
}

type tailoringCheckFile struct {
	Severity *string `toml:"severity"`
	Enabled  *bool   `toml:"enabled"`
}

// Tailor applies a tailoring file: param overrides (same type as the
// baseline's), per-check severity and enabled. Nothing is recompiled: params
// are bound at evaluation and their types cannot change.
func (b *Baseline) Tailor(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("tailoring: %w", err)
	}
	var tf tailoringFile
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&tf)
	if err != nil {
		return tomlError(path, data, err)
	}
	loc := newLocator(data)
	if und := md.Undecoded(); len(und) > 0 {
		return fmt.Errorf("%s: unknown key %q", at(path, loc.keyLine(und[0])), und[0].String())
	}
	// Validate everything before changing anything, so a bad file leaves
	// the baseline as it was.
	paramsLine := loc.sectionLine("params")
	keys := make([]string, 0, len(tf.Params))
	for k := range tf.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		old, ok := b.params[k]
		if !ok {
			return fmt.Errorf("%s: params.%s: the baseline has no such param; its params are %s ('hvaudit checks params' shows each with its default and the checks that use it)",
				at(path, loc.blockKeyLine(paramsLine, k)), k, strings.Join(b.paramNames(), ", "))
		}
		want, _ := tomlCELType(old)
		if !assignable(want, tf.Params[k]) {
			return fmt.Errorf("%s: params.%s: must be %s like in %s", at(path, loc.blockKeyLine(paramsLine, k)), k, want, b.paramsFiles[k])
		}
	}
	ids := make([]string, 0, len(tf.Check))
	for id := range tf.Check {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	byID := map[string]*Check{}
	for _, c := range b.checks {
		byID[c.ID] = c
		for _, a := range c.Aliases {
			byID[a] = c
		}
	}
	for _, id := range ids {
		line := loc.sectionLine("check." + id)
		if line == 0 {
			line = loc.sectionLine(`check."` + id + `"`)
		}
		c, ok := byID[id]
		if !ok {
			return fmt.Errorf("%s: check %s: the baseline has no such check", at(path, line), id)
		}
		if c.ID != id {
			if _, both := tf.Check[c.ID]; both {
				return fmt.Errorf("%s: check %s: is an alias of %s, which the file tailors too", at(path, line), id, c.ID)
			}
		}
		if s := tf.Check[id].Severity; s != nil && findings.Severity(*s).Rank() < 0 {
			return fmt.Errorf("%s: check %s: severity %q is not one of critical, high, medium, low, info",
				at(path, loc.blockKeyLine(line, "severity")), id, *s)
		}
	}
	for _, k := range keys {
		b.params[k], b.paramsFiles[k] = tf.Params[k], path
	}
	for _, id := range ids {
		t, c := tf.Check[id], byID[id]
		if t.Severity != nil {
			c.Severity = findings.Severity(*t.Severity)
		}
		if t.Enabled != nil {
			c.Enabled = *t.Enabled
		}
	}
	sum := sha256.Sum256(data)
	b.TailoringSHA256 = hex.EncodeToString(sum[:])
	return nil
}

// renderExpected fills {params.X} placeholders.
func renderExpected(s string, params map[string]any) string {
	return paramRefRE.ReplaceAllStringFunc(s, func(m string) string {
		name := paramRefRE.FindStringSubmatch(m)[1]
		if v, ok := params[name]; ok {
			return renderParam(v)
		}
		return m
	})
}

// ThreatCoverage lists, per threat of the vocabulary and per platform, the
// enabled checks that guard against it ("any" checks count for every
// platform given). A threat with no check on a platform maps to an empty
// list, so thin coverage shows.
func (b *Baseline) ThreatCoverage(platforms []string) map[string]map[string][]string {
	out := make(map[string]map[string][]string, len(findings.Threats))
	for _, th := range findings.Threats {
		out[th] = make(map[string][]string, len(platforms))
		for _, p := range platforms {
			out[th][p] = []string{}
		}
	}
	for _, c := range b.checks {
		if !c.Enabled {
			continue
		}
		for _, th := range c.Threats {
			byPlatform, ok := out[th]
			if !ok {
				continue
			}
			for _, p := range platforms {
				if c.Platform == p || c.Platform == "any" {
					byPlatform[p] = append(byPlatform[p], c.ID)
				}
			}
		}
	}
	return out
}
