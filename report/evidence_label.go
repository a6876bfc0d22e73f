package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// evidenceLabel names an evidence field in words for people: the CEL path
// the check read (vm.nics.map(n, n.on_management_network)) becomes
// "VM › NICs › on management network (each)", host.options["X"] becomes
// "Host › advanced setting X". The path itself stays available next to the
// label, so nothing is lost; a field whose syntax this does not know is
// returned as it is.
func evidenceLabel(field string) string {
	p := &pathParser{s: strings.TrimSpace(field)}
	root := p.ident()
	label, ok := labelRoots[root]
	if !ok {
		return field
	}
	parts := []string{label}
	prev := root
	for !p.done() {
		switch {
		case p.eat("."):
			name := p.ident()
			if name == "" {
				return field
			}
			if p.eat("(") {
				part, ok := p.call(name)
				if !ok {
					return field
				}
				parts = append(parts, part)
				continue
			}
			parts = append(parts, labelSegment(prev, name))
			prev = name
		case p.eat("["):
			key, ok := p.key()
			if !ok {
				return field
			}
			last := parts[len(parts)-1]
			switch prev {
			case "options", "services", "settings":
				parts[len(parts)-1] = last + " " + key
			default:
				parts = append(parts, key)
			}
		default:
			return field
		}
	}
	return strings.Join(parts, " › ")
}

var labelRoots = map[string]string{
	"host": "Host", "vm": "VM", "network": "Network", "target": "Target",
	"patch": "Patch level", "advisories": "Advisory data",
}

// labelSegments name model fields whose words alone say too little,
// keyed by "parent.field" or by the field alone.
var labelSegments = map[string]string{
	"kvm.qemu":     "qemu.conf",
	"options":      "advanced setting",
	"services":     "service",
	"daemons":      "libvirt daemons",
	"seclabels":    "security labels",
	"hostdevs":     "host devices",
	"nosharepages": "no shared pages",
	"uplink":       "uplink port group",
	"kind":         "type",
}

// labelWords spells abbreviations as people write them.
var labelWords = map[string]string{
	"acs": "ACS", "ad": "AD", "api": "API", "bmc": "BMC", "cdroms": "CD-ROMs", "cpu": "CPU", "cve": "CVE",
	"cves": "CVEs", "dcui": "DCUI", "dhcp": "DHCP", "dn": "DN", "dns": "DNS", "eol": "end of life",
	"ft": "FT", "hgs": "HGS", "hvci": "HVCI", "hyperv": "Hyper-V", "id": "ID", "ids": "IDs", "ip": "IP",
	"iommu": "IOMMU", "kmip": "KMIP", "ksm": "KSM", "kvm": "KVM", "mac": "MAC", "mtu": "MTU",
	"nbd": "NBD", "nic": "NIC", "nics": "NICs", "ntp": "NTP", "os": "OS", "pci": "PCI", "qemu": "QEMU",
	"rw": "read-write", "sasl": "SASL", "sev": "SEV", "smt": "SMT", "spice": "SPICE", "ssh": "SSH",
	"tcp": "TCP", "tdx": "TDX", "tls": "TLS", "tpm": "TPM", "ubr": "UBR", "uefi": "UEFI", "unix": "Unix",
	"usb": "USB", "vbs": "VBS", "vhd": "VHD", "vlan": "VLAN", "vlans": "VLANs", "vm": "VM", "vms": "VMs",
	"vnc": "VNC", "vtpm": "vTPM", "wmi": "WMI", "x509": "X.509",
}

func labelSegment(parent, name string) string {
	if l, ok := labelSegments[parent+"."+name]; ok {
		return l
	}
	if l, ok := labelSegments[name]; ok {
		return l
	}
	words := strings.Split(name, "_")
	for i, w := range words {
		if l, ok := labelWords[strings.ToLower(w)]; ok {
			words[i] = l
		}
	}
	return strings.Join(words, " ")
}

// pathParser reads the CEL paths evidence fields use: a root, .fields,
// ["keys"], and the calls map(x, x.path) and size().
type pathParser struct {
	s string
	i int
}

func (p *pathParser) done() bool { return p.i >= len(p.s) }

func (p *pathParser) eat(tok string) bool {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *pathParser) ident() string {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
	start := p.i
	for p.i < len(p.s) {
		r := rune(p.s[p.i])
		if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) && p.i > start {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

// key reads "text"] or 'text'].
func (p *pathParser) key() (string, bool) {
	if p.done() || (p.s[p.i] != '"' && p.s[p.i] != '\'') {
		return "", false
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", false
	}
	k := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return k, p.eat("]")
}

// call reads the arguments of name( … ) and names the result.
func (p *pathParser) call(name string) (string, bool) {
	switch name {
	case "size":
		return "count", p.eat(")")
	case "map":
		v := p.ident()
		if v == "" || !p.eat(",") || p.ident() != v {
			return "", false
		}
		var words []string
		prev := ""
		for p.eat(".") {
			f := p.ident()
			if f == "" {
				return "", false
			}
			words = append(words, labelSegment(prev, f))
			prev = f
		}
		if len(words) == 0 || !p.eat(")") {
			return "", false
		}
		return strings.Join(words, " › ") + " (each)", true
	}
	return "", false
}

// evidenceKey is the setting's own name at the end of an evidence field:
// the key of host.options["Net.BMCNetworkEnable"], the field a map reads
// (on_management_network), else the last field (migrate_tls_force). It is
// what the product's documentation and the remediation call the setting.
func evidenceKey(field string) string {
	f := strings.TrimSpace(field)
	if strings.HasSuffix(f, "\"]") || strings.HasSuffix(f, "']") {
		q := f[len(f)-2]
		if i := strings.LastIndexByte(f[:len(f)-2], q); i >= 0 {
			return f[i+1 : len(f)-2]
		}
	}
	if strings.HasSuffix(f, ")") {
		if i := strings.LastIndex(f, ".map("); i >= 0 {
			args := f[i+len(".map(") : len(f)-1]
			if _, body, ok := strings.Cut(args, ","); ok {
				body = strings.TrimSpace(body)
				if _, path, ok := strings.Cut(body, "."); ok {
					return path
				}
			}
		}
		return f
	}
	if i := strings.LastIndexByte(f, '.'); i >= 0 {
		return f[i+1:]
	}
	return f
}

// messageBeyondEvidence is what a finding's message says besides restating
// its evidence. The engine writes a failing finding's message as
// "observed FIELD = VALUE, …" (plus, at times, a note in parentheses);
// formats that show the evidence with labels drop that restatement and keep
// the note. A message in any other form is returned whole.
func messageBeyondEvidence(f findings.Finding) string {
	msg := f.Message
	if len(f.Evidence) == 0 || !strings.HasPrefix(msg, "observed ") {
		return msg
	}
	parts := make([]string, len(f.Evidence))
	for i, e := range f.Evidence {
		parts[i] = e.Field + " = " + engineValue(e.Observed)
	}
	rest, ok := strings.CutPrefix(msg, "observed "+strings.Join(parts, ", "))
	if !ok {
		return msg
	}
	return strings.TrimSpace(rest)
}

// engineValue formats an observed value as the engine's messages do.
func engineValue(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
