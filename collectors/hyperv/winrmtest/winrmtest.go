// Package winrmtest is a WinRM listener for tests: HTTPS with a
// self-signed certificate, the WS-Management shell protocol as
// github.com/masterzen/winrm speaks it (Create, Command, Receive, Signal,
// Delete), and a stand-in for PowerShell that answers the batches
// hvaudit's WinRM source sends (collectors/hyperv/psscript.go) from
// recorded class results. Faults can be injected: an HTTP status for
// every request, a redirect, and a function that rewrites one class's
// JSON (to truncate it, say).
//
// It imports nothing of hvaudit, so the hyperv package's own tests and
// the integration tests can both use it.
package winrmtest

import (
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf16"
)

// Result is what the host answers for one query or method call: its
// ConvertTo-Json output, or an error message.
type Result struct {
	JSON  string
	Error string
}

// Server is the fake listener.
type Server struct {
	*httptest.Server
	// Classes answers Get-CimInstance per class name; a class not listed
	// answers "Invalid class".
	Classes map[string]Result
	// Methods answers Invoke-CimMethod per "Class.Method".
	Methods map[string]Result
	// PSVersion is the version the script reports.
	PSVersion string

	mu sync.Mutex
	// Status, when not 0, answers every request with this HTTP status and
	// Body (401 with a Negotiate challenge, 500 with a SOAP fault).
	Status int
	Body   string
	// Redirect, when set, answers every request with 307 to this URL.
	Redirect string
	// Rewrite, when set, changes a class's JSON before it is framed.
	Rewrite func(class, json string) string
	// Output, when set, changes the whole standard output of a batch (to
	// cut it short, say).
	Output func(stdout string) string

	// Requests counts the requests that reached the listener.
	Requests atomic.Int64
	// Commands holds the decoded scripts run.
	Commands []string
}

// New starts a listener answering from classes and methods.
func New(classes, methods map[string]Result) *Server {
	s := &Server{Classes: classes, Methods: methods, PSVersion: "5.1.20348.2582"}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Server.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.Server.StartTLS()
	return s
}

// Set changes a fault under the lock: f is called with the server.
func (s *Server) Set(f func(*Server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

var (
	actionRE  = regexp.MustCompile(`<[A-Za-z0-9]*:?Action[^>]*>([^<]+)</`)
	encodedRE = regexp.MustCompile(`-EncodedCommand\s+([A-Za-z0-9+/=]+)`)
	queryRE   = regexp.MustCompile(`^Q (\d+) '((?:[^']|'')*)' '((?:[^']|'')*)' @\((.*)\)$`)
	methodRE  = regexp.MustCompile(`^M (\d+) '((?:[^']|'')*)' '((?:[^']|'')*)' '((?:[^']|'')*)' `)
)

const (
	shellID   = "5F3A1D2C-0B4E-4F6A-8C7D-9E0F1A2B3C4D"
	commandID = "6A4B2E3D-1C5F-4A7B-9D8E-0F1A2B3C4D5E"
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.Requests.Add(1)
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	status, fault, redirect := s.Status, s.Body, s.Redirect
	s.mu.Unlock()
	switch {
	case redirect != "":
		http.Redirect(w, r, redirect, http.StatusTemporaryRedirect)
		return
	case status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", "Negotiate")
		w.WriteHeader(status)
		return
	case status != 0:
		w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, fault)
		return
	}
	m := actionRE.FindSubmatch(body)
	if m == nil {
		http.Error(w, "no WS-Addressing action", http.StatusBadRequest)
		return
	}
	action := string(m[1])
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	switch {
	case strings.HasSuffix(action, "/transfer/Create"):
		reply(w, "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse",
			`<x:ResourceCreated><a:ReferenceParameters><w:SelectorSet><w:Selector Name="ShellId">`+shellID+`</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>`)
	case strings.HasSuffix(action, "/shell/Command"):
		enc := encodedRE.FindSubmatch(body)
		if enc == nil {
			http.Error(w, "not an encoded PowerShell command", http.StatusBadRequest)
			return
		}
		script, err := decode(string(enc[1]))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.Commands = append(s.Commands, script)
		s.mu.Unlock()
		reply(w, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse",
			`<rsp:CommandResponse><rsp:CommandId>`+commandID+`</rsp:CommandId></rsp:CommandResponse>`)
	case strings.HasSuffix(action, "/shell/Receive"):
		s.mu.Lock()
		script := ""
		if n := len(s.Commands); n > 0 {
			script = s.Commands[n-1]
		}
		s.mu.Unlock()
		stdout := s.run(script)
		s.mu.Lock()
		if s.Output != nil {
			stdout = s.Output(stdout)
		}
		s.mu.Unlock()
		out := base64.StdEncoding.EncodeToString([]byte(stdout))
		reply(w, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse",
			`<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="`+commandID+`">`+out+`</rsp:Stream>`+
				`<rsp:Stream Name="stdout" CommandId="`+commandID+`" End="true"></rsp:Stream><rsp:Stream Name="stderr" CommandId="`+commandID+`" End="true"></rsp:Stream>`+
				`<rsp:CommandState CommandId="`+commandID+`" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"><rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>`)
	case strings.HasSuffix(action, "/shell/Signal"):
		reply(w, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse", `<rsp:SignalResponse/>`)
	case strings.HasSuffix(action, "/transfer/Delete"):
		reply(w, "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", ``)
	default:
		http.Error(w, "unexpected action "+action, http.StatusBadRequest)
	}
}

// run plays PowerShell for one batch: a framed line per Q/M line, then
// the version line when the script asks for it.
func (s *Server) run(script string) string {
	var b strings.Builder
	frame := func(i, status, text string) {
		fmt.Fprintf(&b, "##hvaudit %s %s %s\r\n", i, status, base64.StdEncoding.EncodeToString([]byte(text)))
	}
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimRight(line, "\r")
		if m := queryRE.FindStringSubmatch(line); m != nil {
			class := unquote(m[3])
			res, ok := s.Classes[class]
			switch {
			case !ok:
				frame(m[1], "error", "Invalid class ")
			case res.Error != "":
				frame(m[1], "error", res.Error)
			default:
				j := res.JSON
				s.mu.Lock()
				rw := s.Rewrite
				s.mu.Unlock()
				if rw != nil {
					j = rw(class, j)
				}
				frame(m[1], "ok", j)
			}
			continue
		}
		if m := methodRE.FindStringSubmatch(line); m != nil {
			res, ok := s.Methods[unquote(m[3])+"."+unquote(m[4])]
			switch {
			case !ok:
				frame(m[1], "error", "Invalid method ")
			case res.Error != "":
				frame(m[1], "error", res.Error)
			default:
				frame(m[1], "ok", res.JSON)
			}
		}
	}
	if strings.Contains(script, "$PSVersionTable") {
		fmt.Fprintf(&b, "##hvaudit psversion %s\r\n", base64.StdEncoding.EncodeToString([]byte(s.PSVersion)))
	}
	return b.String()
}

func unquote(s string) string { return strings.ReplaceAll(s, "''", "'") }

// decode reverses powershell.exe -EncodedCommand: base64 of UTF-16LE.
func decode(b64 string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw)%2 != 0 {
		return "", fmt.Errorf("not an encoded command")
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	return string(utf16.Decode(u)), nil
}

func reply(w http.ResponseWriter, action, body string) {
	_, _ = io.WriteString(w, `<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" `+
		`xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" `+
		`xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">`+
		`<s:Header><a:Action>`+action+`</a:Action><a:MessageID>uuid:00000000-0000-4000-8000-000000000001</a:MessageID></s:Header>`+
		`<s:Body>`+body+`</s:Body></s:Envelope>`)
}

// Fault is a WS-Management fault body as a Windows listener writes it.
func Fault(text string) string {
	return `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault">` +
		`<s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code><s:Reason><s:Text xml:lang="en-US">` + text +
		`</s:Text></s:Reason><s:Detail><f:WSManFault Code="2150858770"><f:Message>` + text + `</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`
}
