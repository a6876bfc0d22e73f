package report

import (
	"fmt"
	"strings"
)

// Files writes one checklist per audited target, for STIG Viewer, which
// describes one asset per checklist: the roll-up Write produces lumps
// several targets into one host_name. A target without STIG-mapped
// findings (another platform, or one that could not be collected) gets no
// file. Names are the target's name made safe for a file system, ".cklb".
func (cklbWriter) Files(run *Run) ([]File, error) {
	r, err := prepare(run)
	if err != nil {
		return nil, err
	}
	byTarget := map[string]*Run{}
	var order []string
	for _, f := range r.Findings {
		if !hasSTIG(f.Refs.STIG) {
			continue
		}
		sub := byTarget[f.Target]
		if sub == nil {
			cp := *r
			cp.Findings = nil
			cp.Targets = nil
			for _, t := range r.Targets {
				if t.Name == f.Target {
					cp.Targets = append(cp.Targets, t)
				}
			}
			sub = &cp
			byTarget[f.Target] = sub
			order = append(order, f.Target)
		}
		sub.Findings = append(sub.Findings, f)
	}
	var files []File
	used := map[string]bool{}
	for _, name := range order {
		var b strings.Builder
		if err := (cklbWriter{}).Write(&b, byTarget[name]); err != nil {
			return nil, err
		}
		base := safeFileName(name)
		file := base + ".cklb"
		for i := 2; used[strings.ToLower(file)]; i++ {
			file = fmt.Sprintf("%s-%d.cklb", base, i)
		}
		used[strings.ToLower(file)] = true
		files = append(files, File{Name: file, Data: []byte(b.String())})
	}
	return files, nil
}

func hasSTIG(ids []string) bool {
	for _, id := range ids {
		if strings.TrimSpace(id) != "" {
			return true
		}
	}
	return false
}

// safeFileName keeps letters, digits, dot, dash and underscore of a target
// name and replaces the rest, so "qemu:///system" becomes "qemu_system"
// and no name can climb out of the directory or hide as a dot file.
func safeFileName(name string) string {
	var b strings.Builder
	last := byte(0)
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
		if !ok {
			c = '_'
		}
		if c == '_' && last == '_' {
			continue
		}
		b.WriteByte(c)
		last = c
	}
	s := strings.Trim(b.String(), "._")
	if s == "" {
		s = "target"
	}
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}
