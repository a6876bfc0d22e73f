package hyperv

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
)

// The WinRM source runs PowerShell on the host: for each query
//
//	Get-CimInstance -Namespace NS -ClassName CLASS | Select-Object -Property P1,P2… | ConvertTo-Json -Depth 4 -Compress
//
// and for the UBR, Invoke-CimMethod on StdRegProv.GetDWORDValue. Many
// queries share one PowerShell process (one WinRM command), each framed by
// a marker line, with the JSON base64-encoded (UTF-8) so that neither the
// console code page nor line wrapping can alter it. Names come from the
// allow-listed Catalog only and are single-quoted; the script reaches the
// host as -EncodedCommand (base64 of UTF-16LE), never through cmd.exe
// quoting.

// maxCommandLen bounds one WinRM command line (cmd.exe's 8191-character
// limit applies to WinRS commands).
const maxCommandLen = 8000

const markerPrefix = "##hvaudit "

// psPrelude defines the two helpers every batch uses.
const psPrelude = `$ProgressPreference='SilentlyContinue';$ErrorActionPreference='Stop'
function E($s){[Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes([string]$s))}
function R($i,$j){if($null -eq $j){$j='[]'};[Console]::Out.WriteLine('##hvaudit '+$i+' ok '+(E ($j -join '')))}
function F($i,$e){[Console]::Out.WriteLine('##hvaudit '+$i+' error '+(E $e.Exception.Message))}
function Q($i,$n,$c,$p){try{R $i (Get-CimInstance -Namespace $n -ClassName $c -ErrorAction Stop|Select-Object -Property $p|ConvertTo-Json -Depth 4 -Compress)}catch{F $i $_}}
function M($i,$n,$c,$m,$a,$p){try{R $i (Invoke-CimMethod -Namespace $n -ClassName $c -MethodName $m -Arguments $a -ErrorAction Stop|Select-Object -Property $p|ConvertTo-Json -Depth 4 -Compress)}catch{F $i $_}}
`

const psEpilogue = `[Console]::Out.WriteLine('##hvaudit psversion '+(E $PSVersionTable.PSVersion))
`

// psQuote single-quotes a string for PowerShell. Validated names never
// contain a quote; doubling it anyway keeps the function safe on its own.
func psQuote(s string) string {
	r := strings.NewReplacer("'", "''", "\u2018", "\u2018\u2018", "\u2019", "\u2019\u2019", "\u201a", "\u201a\u201a", "\u201b", "\u201b\u201b")
	return "'" + r.Replace(s) + "'"
}

func psList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = psQuote(s)
	}
	return "@(" + strings.Join(q, ",") + ")"
}

// queryLine is the script line running query i.
func queryLine(i int, q Query) (string, error) {
	if err := q.Validate(); err != nil {
		return "", err
	}
	return fmt.Sprintf("Q %d %s %s %s\n", i, psQuote(q.Namespace), psQuote(q.Class), psList(q.Properties)), nil
}

// methodLine is the script line making method call i.
func methodLine(i int, m MethodCall) (string, error) {
	if err := m.Validate(); err != nil {
		return "", err
	}
	keys := make([]string, 0, len(m.Args))
	for k := range m.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var args []string
	for _, k := range keys {
		switch v := m.Args[k].(type) {
		case uint32:
			args = append(args, fmt.Sprintf("%s=[uint32]%d", k, v))
		case string:
			args = append(args, k+"="+psQuote(v))
		}
	}
	return fmt.Sprintf("M %d %s %s %s @{%s} %s\n", i, psQuote(m.Namespace), psQuote(m.Class), psQuote(m.Method), strings.Join(args, ";"), psList(m.Outputs)), nil
}

// EncodeCommand wraps a script as a powershell.exe command line with
// -EncodedCommand: base64 of the script's UTF-16LE bytes.
func EncodeCommand(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return "powershell.exe -NoLogo -NoProfile -NonInteractive -EncodedCommand " + base64.StdEncoding.EncodeToString(b)
}

// DecodeCommand reverses EncodeCommand (tests and debugging).
func DecodeCommand(cmd string) (string, error) {
	i := strings.LastIndex(cmd, " ")
	raw, err := base64.StdEncoding.DecodeString(cmd[i+1:])
	if err != nil {
		return "", err
	}
	if len(raw)%2 != 0 {
		return "", fmt.Errorf("odd UTF-16 length")
	}
	u := make([]uint16, len(raw)/2)
	for j := range u {
		u[j] = uint16(raw[2*j]) | uint16(raw[2*j+1])<<8
	}
	return string(utf16.Decode(u)), nil
}

// scriptItem is one query or method call of a batch, by global index.
type scriptItem struct {
	index int
	line  string
}

// BuildCommands turns queries (indexes 0…len(qs)-1) and method calls
// (indexes len(qs)…) into as few encoded command lines as fit the WinRM
// limit. The last command also reports the PowerShell version.
func BuildCommands(qs []Query, ms []MethodCall) ([]string, error) {
	var items []scriptItem
	for i, q := range qs {
		l, err := queryLine(i, q)
		if err != nil {
			return nil, err
		}
		items = append(items, scriptItem{i, l})
	}
	for j, m := range ms {
		l, err := methodLine(len(qs)+j, m)
		if err != nil {
			return nil, err
		}
		items = append(items, scriptItem{len(qs) + j, l})
	}
	var cmds []string
	body := ""
	for _, it := range items {
		if body != "" && len(EncodeCommand(psPrelude+body+it.line+psEpilogue)) > maxCommandLen {
			cmds = append(cmds, EncodeCommand(psPrelude+body))
			body = ""
		}
		body += it.line
		if len(EncodeCommand(psPrelude+body+psEpilogue)) > maxCommandLen {
			return nil, fmt.Errorf("one query's command is longer than %d characters", maxCommandLen)
		}
	}
	cmds = append(cmds, EncodeCommand(psPrelude+body+psEpilogue))
	return cmds, nil
}

// rawResult is one framed result of a batch.
type rawResult struct {
	ok   bool
	body []byte // JSON when ok, the error message otherwise
}

var markerLine = regexp.MustCompile(`^##hvaudit (\d+|psversion) (?:(ok|error) )?([A-Za-z0-9+/=]*)$`)

// ParseOutput reads a batch's standard output: the framed results by
// index and the PowerShell version. Lines that are not markers (a
// profile's or module's chatter) are ignored; a malformed marker is an
// error.
func ParseOutput(stdout string) (map[int]rawResult, string, error) {
	out := map[int]rawResult{}
	ps := ""
	for _, line := range strings.Split(stdout, "\n") {
		line = strings.TrimRight(line, "\r ")
		if !strings.HasPrefix(line, markerPrefix) {
			continue
		}
		m := markerLine.FindStringSubmatch(line)
		if m == nil {
			return nil, "", fmt.Errorf("malformed result line %q", truncate(line, 80))
		}
		body, err := base64.StdEncoding.DecodeString(m[3])
		if err != nil {
			return nil, "", fmt.Errorf("result line %s: %w", m[1], err)
		}
		if m[1] == "psversion" {
			ps = string(body)
			continue
		}
		if m[2] == "" {
			return nil, "", fmt.Errorf("result line %s has no status", m[1])
		}
		i, _ := strconv.Atoi(m[1])
		out[i] = rawResult{ok: m[2] == "ok", body: body}
	}
	return out, ps, nil
}

// errorMessage decodes the error text a failed item carries (plain, or
// a JSON string from an older script).
func errorMessage(b []byte) string {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(string(b))
}

// CLIXMLErrors extracts the error text PowerShell writes to standard error
// over WinRM as CLIXML ("#< CLIXML" then <Objs>…<S S="Error">…</S>).
// Other streams (progress, verbose) are dropped. Text that is not CLIXML
// is returned trimmed.
func CLIXMLErrors(stderr string) string {
	s := strings.TrimSpace(stderr)
	if !strings.HasPrefix(s, "#< CLIXML") {
		return s
	}
	s = strings.TrimSpace(strings.TrimPrefix(s, "#< CLIXML"))
	dec := xml.NewDecoder(strings.NewReader(s))
	var parts []string
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "S" {
			continue
		}
		isErr := false
		for _, a := range se.Attr {
			if a.Name.Local == "S" && a.Value == "Error" {
				isErr = true
			}
		}
		if !isErr {
			continue
		}
		var text string
		if err := dec.DecodeElement(&text, &se); err != nil {
			break
		}
		parts = append(parts, unescapeCLIXML(text))
	}
	return strings.TrimSpace(strings.Join(parts, ""))
}

var clixmlEscape = regexp.MustCompile(`_x([0-9A-Fa-f]{4})_`)

// unescapeCLIXML decodes PowerShell's _xHHHH_ character escapes.
func unescapeCLIXML(s string) string {
	var b bytes.Buffer
	last := 0
	for _, m := range clixmlEscape.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(s[last:m[0]])
		v, _ := strconv.ParseUint(s[m[2]:m[3]], 16, 16)
		b.WriteRune(rune(v))
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
