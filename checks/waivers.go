package checks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/checks/glob"
)

// WaiverRule is one [[waiver]] entry: an accepted risk for the findings it
// matches, until it expires.
type WaiverRule struct {
	// Check, Target and Object are globs (see checks/glob); "" matches anything.
	// Object matches the object's name or id.
	Check         string    `json:"check"`
	Target        string    `json:"target,omitempty"`
	Object        string    `json:"object,omitempty"`
	Justification string    `json:"justification"`
	Approver      string    `json:"approver,omitempty"`
	Expires       time.Time `json:"expires"`
	// File and Line locate the entry, for unused-waiver reports.
	File string `json:"file"`
	Line int    `json:"line"`

	checkGlob, targetGlob, objectGlob *glob.Glob
	checkLine                         int
}

// Waivers is a loaded waiver file.
type Waivers struct {
	Rules  []WaiverRule
	SHA256 string
	Source string
	// aliases maps a check id to its former ids (FollowAliases), so a
	// waiver written for a renamed check keeps covering it.
	aliases map[string][]string
}

// FollowAliases makes the rules match a check by its former ids too.
func (ws *Waivers) FollowAliases(b *Baseline) {
	if ws == nil || b == nil {
		return
	}
	ws.aliases = map[string][]string{}
	for alias, id := range b.AliasMap() {
		ws.aliases[id] = append(ws.aliases[id], alias)
	}
}

type waiverFile struct {
	Waivers []waiverEntry `toml:"waiver"`
}

type waiverEntry struct {
	Check         string `toml:"check"`
	Target        string `toml:"target"`
	Object        string `toml:"object"`
	Justification string `toml:"justification"`
	Approver      string `toml:"approver"`
	Expires       any    `toml:"expires"`
}

// parseExpires accepts only an offset date-time: a TOML one
// (expires = 2026-12-31T00:00:00Z) or, since people quote dates, a string in
// RFC 3339 with a zone. The entry decodes expires as a raw value, not
// time.Time, for two reasons: the decoder's time.Time path re-parses through
// text and would silently give a local date the machine's zone (a waiver
// would then expire at a different instant on every machine), and an error
// raised inside the decoder carries no usable line, while here the entry's
// own line is known.
func parseExpires(v any) (time.Time, error) {
	switch t := v.(type) {
	case nil:
		return time.Time{}, fmt.Errorf("expires is required (an RFC 3339 date-time with a zone)")
	case time.Time:
		switch t.Location().String() {
		case "datetime-local", "date-local", "time-local":
			return time.Time{}, fmt.Errorf("expires needs a zone (e.g. 2026-12-31T00:00:00Z)")
		}
		return t, nil
	case string:
		p, err := time.Parse(time.RFC3339, t)
		if err != nil {
			return time.Time{}, fmt.Errorf("expires %q is not an RFC 3339 date-time with a zone (e.g. 2026-12-31T00:00:00Z)", t)
		}
		return p, nil
	}
	return time.Time{}, fmt.Errorf("expires must be an RFC 3339 date-time with a zone, not a %T", v)
}

// LoadWaivers loads and validates a waiver file.
func LoadWaivers(file string) (*Waivers, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("waivers: %w", err)
	}
	var wf waiverFile
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&wf)
	if err != nil {
		return nil, tomlError(file, data, err)
	}
	loc := newLocator(data)
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown key %q", at(file, loc.keyLine(und[0])), und[0].String())
	}
	rules := make([]WaiverRule, len(wf.Waivers))
	for i, e := range wf.Waivers {
		w := &rules[i]
		*w = WaiverRule{Check: e.Check, Target: e.Target, Object: e.Object, Justification: e.Justification,
			Approver: e.Approver, File: file, Line: loc.tableLine("waiver", i)}
		line := func(key string) string { return at(file, loc.blockKeyLine(w.Line, key)) }
		if w.Check == "" {
			return nil, fmt.Errorf("%s: waiver: check is required", line("check"))
		}
		w.checkLine = loc.blockKeyLine(w.Line, "check")
		for _, g := range []struct {
			key, val string
			dst      **glob.Glob
		}{{"check", w.Check, &w.checkGlob}, {"target", w.Target, &w.targetGlob}, {"object", w.Object, &w.objectGlob}} {
			if *g.dst, err = glob.Compile(g.val); err != nil {
				return nil, fmt.Errorf("%s: waiver %s: %s %q is not a valid pattern: %w", line(g.key), w.Check, g.key, g.val, err)
			}
		}
		if strings.TrimSpace(w.Justification) == "" {
			return nil, fmt.Errorf("%s: waiver %s: justification is required (say why the risk is accepted)", line("justification"), w.Check)
		}
		if w.Expires, err = parseExpires(e.Expires); err != nil {
			return nil, fmt.Errorf("%s: waiver %s: %w", line("expires"), w.Check, err)
		}
	}
	sum := sha256.Sum256(data)
	return &Waivers{Rules: rules, SHA256: hex.EncodeToString(sum[:]), Source: file}, nil
}

func (w *WaiverRule) matches(f *findings.Finding, aliases []string) bool {
	checkOK := w.glob(&w.checkGlob, w.Check).Match(f.CheckID)
	for _, a := range aliases {
		checkOK = checkOK || w.checkGlob.Match(a)
	}
	obj := w.glob(&w.objectGlob, w.Object)
	return checkOK && w.glob(&w.targetGlob, w.Target).Match(f.Target) &&
		(obj.Match(f.Object.Name) || obj.Match(f.Object.ID))
}

// glob returns a compiled selector, compiling it on first use for rules
// not built by LoadWaivers. An invalid pattern matches nothing.
func (w *WaiverRule) glob(g **glob.Glob, pattern string) *glob.Glob {
	if *g == nil {
		c, err := glob.Compile(pattern)
		if err != nil {
			c = glob.Never()
		}
		*g = c
	}
	return *g
}

// UnknownChecks lists, as FILE:LINE errors, the waivers whose check glob
// matches no check id or former id in b: a typo there waives nothing, for
// ever, and nobody notices.
func (ws *Waivers) UnknownChecks(b *Baseline) []error {
	if ws == nil || b == nil {
		return nil
	}
	var names []string
	for _, c := range b.Checks() {
		names = append(names, c.ID)
		names = append(names, c.Aliases...)
	}
	var errs []error
	for i := range ws.Rules {
		w := &ws.Rules[i]
		g := w.glob(&w.checkGlob, w.Check)
		if !slices.ContainsFunc(names, g.Match) {
			line := w.checkLine
			if line == 0 {
				line = w.Line
			}
			errs = append(errs, fmt.Errorf("%s: waiver check %q matches no check in baseline %s %s (see 'hvaudit checks list')",
				at(w.File, line), w.Check, b.ID, b.Version))
		}
	}
	return errs
}

func (w *WaiverRule) applied(expired bool) *findings.Waiver {
	return &findings.Waiver{
		CheckID: w.Check, Target: w.Target, Object: w.Object,
		Justification: w.Justification, Approver: w.Approver,
		Expires: w.Expires.Format(time.RFC3339), Expired: expired,
	}
}

// Apply waives the matching fail and error findings in place and returns
// the rules that waived nothing (expired ones included). A waiver never
// touches a pass or not_applicable finding. An expired waiver leaves the
// finding's status alone, records itself with Expired set and says so in
// the message. The first live matching rule, in file order, wins.
func (ws *Waivers) Apply(fs []findings.Finding, now time.Time) []WaiverRule {
	if ws == nil {
		return nil
	}
	used := make([]bool, len(ws.Rules))
	for i := range fs {
		f := &fs[i]
		if f.Status != findings.StatusFail && f.Status != findings.StatusError {
			continue
		}
		var expired *WaiverRule
		for r := range ws.Rules {
			w := &ws.Rules[r]
			if !w.matches(f, ws.aliases[f.CheckID]) {
				continue
			}
			if w.Expired(now) {
				if expired == nil {
					expired = w
				}
				continue
			}
			used[r] = true
			f.ObservedStatus, f.Status, f.Waiver = f.Status, findings.StatusWaived, w.applied(false)
			expired = nil
			break
		}
		if expired != nil {
			f.Waiver = expired.applied(true)
			note := "waiver expired " + expired.Expires.Format(time.RFC3339)
			if f.Message == "" {
				f.Message = note
			} else {
				f.Message += "; " + note
			}
		}
	}
	var unused []WaiverRule
	for r, u := range used {
		if !u {
			unused = append(unused, ws.Rules[r])
		}
	}
	return unused
}

// Expired reports whether the rule has lapsed at now: a waiver holds up to,
// not including, its expiry instant.
func (w *WaiverRule) Expired(now time.Time) bool { return !now.Before(w.Expires) }

// Expiring splits the rules for `hvaudit waivers lint`: those still live at
// now that lapse within the given window, and those already expired.
func (ws *Waivers) Expiring(now time.Time, within time.Duration) (expiring, expired []WaiverRule) {
	if ws == nil {
		return nil, nil
	}
	for _, w := range ws.Rules {
		switch {
		case w.Expired(now):
			expired = append(expired, w)
		case w.Expires.Before(now.Add(within)):
			expiring = append(expiring, w)
		}
	}
	return expiring, expired
}
