package esxisim

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// Faults make the simulated server misbehave the way real ones do during a
// long collection. Pages count every RetrievePropertiesEx and
// ContinueRetrievePropertiesEx call from 1, across sessions.
type Faults struct {
	// ExpireSessionAtPages end the caller's session when those pages are
	// asked for; the call fails NotAuthenticated, as a vCenter answers once
	// a session has timed out or an administrator terminated it.
	ExpireSessionAtPages []int
	// ResetAtPages cut the connection halfway through those pages'
	// responses, after the server has consumed the page.
	ResetAtPages []int
	// SlowPage makes that page take SlowPageDelay.
	SlowPage      int
	SlowPageDelay time.Duration
	// Deny answers a property of every object of a type with NoPermission,
	// as vCenter does for a property the account's role cannot read.
	Deny *DeniedProperty
	// Remove deletes the objects of these types from the server (as in a
	// govc object.save recording replayed without them); reading one then
	// fails with ManagedObjectNotFound.
	Remove []string
}

// DeniedProperty is a property the audit account may not read.
type DeniedProperty struct {
	Type, Path, Privilege string
}

// server holds what the simulator's own code does not do like a real one.
type server struct {
	api    string // the API release the server speaks
	faults Faults
	pc     types.ManagedObjectReference

	mu    sync.Mutex
	pages int
}

// servers maps each running model's registry to its behaviour: the
// simulator creates per-session property collectors as zero values of the
// registered type, so they find their server through the registry.
var servers sync.Map // *simulator.Registry → *server

// propertyCollector is the simulator's, made to behave like vCenter's:
// unknown property paths and objects fault the whole call, and faults can
// be injected per page.
type propertyCollector struct {
	simulator.PropertyCollector
}

func (s *server) nextPage() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages++
	return s.pages
}

// RetrievePropertiesEx checks the request as vCenter does, then answers.
func (pc *propertyCollector) RetrievePropertiesEx(ctx *simulator.Context, r *types.RetrievePropertiesEx) soap.HasFault {
	s, _ := servers.Load(ctx.Map)
	srv, _ := s.(*server)
	if srv != nil {
		if f := srv.beforePage(ctx); f != nil {
			return &methods.RetrievePropertiesExBody{Fault_: simulator.Fault("", f)}
		}
		if f := srv.check(ctx, r.SpecSet); f != nil {
			return &methods.RetrievePropertiesExBody{Fault_: simulator.Fault("", f)}
		}
	}
	res := pc.PropertyCollector.RetrievePropertiesEx(ctx, r)
	if body, ok := res.(*methods.RetrievePropertiesExBody); ok && srv != nil && body.Res != nil && body.Res.Returnval != nil {
		srv.deny(body.Res.Returnval.Objects)
	}
	return res
}

// ContinueRetrievePropertiesEx answers the next page.
func (pc *propertyCollector) ContinueRetrievePropertiesEx(ctx *simulator.Context, r *types.ContinueRetrievePropertiesEx) soap.HasFault {
	s, _ := servers.Load(ctx.Map)
	srv, _ := s.(*server)
	if srv != nil {
		if f := srv.beforePage(ctx); f != nil {
			return &methods.ContinueRetrievePropertiesExBody{Fault_: simulator.Fault("", f)}
		}
	}
	res := pc.PropertyCollector.ContinueRetrievePropertiesEx(ctx, r)
	if body, ok := res.(*methods.ContinueRetrievePropertiesExBody); ok && srv != nil && body.Res != nil {
		srv.deny(body.Res.Returnval.Objects)
	}
	return res
}

// beforePage applies the per-page faults.
func (s *server) beforePage(ctx *simulator.Context) types.BaseMethodFault {
	page := s.nextPage()
	if page == s.faults.SlowPage {
		time.Sleep(s.faults.SlowPageDelay)
	}
	if slices.Contains(s.faults.ExpireSessionAtPages, page) && ctx.Session != nil {
		sm := ctx.Map.SessionManager()
		admin := &simulator.Context{Map: ctx.Map, Session: &simulator.Session{UserSession: types.UserSession{Key: "esxisim"}}}
		sm.TerminateSession(admin, &types.TerminateSession{SessionId: []string{ctx.Session.Key}})
		return &types.NotAuthenticated{NoPermission: types.NoPermission{Object: &s.pc, PrivilegeId: "System.View"}}
	}
	return nil
}

// check refuses what vCenter refuses: a property path the server's API
// release does not have (InvalidProperty), an object it does not have
// (ManagedObjectNotFound). The simulator itself answers both silently.
func (s *server) check(ctx *simulator.Context, specs []types.PropertyFilterSpec) types.BaseMethodFault {
	for _, spec := range specs {
		for _, ps := range spec.PropSet {
			for _, p := range ps.PathSet {
				if since := pathSince(ps.Type, p); since != "" && older(s.api, since) {
					return &types.InvalidProperty{Name: p}
				}
			}
		}
		if spec.ReportMissingObjectsInResults != nil && *spec.ReportMissingObjectsInResults {
			continue // the caller asked for missing objects in the results instead
		}
		for _, os := range spec.ObjectSet {
			if os.Obj.Type == "ContainerView" || os.Obj.Type == "ListView" {
				continue
			}
			if ctx.Map.Get(os.Obj) == nil && (ctx.Session == nil || ctx.Session.Get(os.Obj) == nil) {
				return &types.ManagedObjectNotFound{Obj: os.Obj}
			}
		}
	}
	return nil
}

// deny moves the denied property of every matching object to its MissingSet.
func (s *server) deny(objs []types.ObjectContent) {
	d := s.faults.Deny
	if d == nil {
		return
	}
	for i := range objs {
		o := &objs[i]
		if o.Obj.Type != d.Type {
			continue
		}
		kept := o.PropSet[:0]
		for _, p := range o.PropSet {
			if p.Name == d.Path {
				continue
			}
			kept = append(kept, p)
		}
		o.PropSet = kept
		obj := o.Obj
		o.MissingSet = append(o.MissingSet, types.MissingProperty{Path: d.Path, Fault: types.LocalizedMethodFault{
			Fault: &types.NoPermission{Object: &obj, PrivilegeId: d.Privilege}, LocalizedMessage: "Permission to perform this operation was denied.",
		}})
	}
}

// resetting wraps the HTTP handler to cut the connection halfway through the
// responses to the pages faults.ResetAtPages name. The page is served first,
// so the server has moved past it, as when a load balancer drops a
// connection mid-response.
func (s *server) resetting(next http.Handler) http.Handler {
	var mu sync.Mutex
	seen := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(s.faults.ResetAtPages) == 0 || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := readBody(r)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		m := soapMethod(body)
		cut := false
		if m == "RetrievePropertiesEx" || m == "ContinueRetrievePropertiesEx" {
			mu.Lock()
			seen++
			cut = slices.Contains(s.faults.ResetAtPages, seen)
			mu.Unlock()
		}
		if !cut {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		hj, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "cannot cut the connection", http.StatusInternalServerError)
			return
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		full := rec.Body.Bytes()
		writeHead(buf, rec.Code, rec.Header(), len(full))
		_, _ = buf.Write(full[:len(full)/2])
		_ = buf.Flush()
	})
}

func writeHead(w *bufio.ReadWriter, code int, h http.Header, length int) {
	_, _ = w.WriteString("HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n")
	h.Set("Content-Length", strconv.Itoa(length))
	_ = h.Write(w)
	_, _ = w.WriteString("\r\n")
}

func readBody(r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	if _, err := b.ReadFrom(r.Body); err != nil {
		return nil, err
	}
	r.Body.Close()
	r.Body = readCloser{bytes.NewReader(b.Bytes())}
	return b.Bytes(), nil
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// The server's schema: the API release that introduced each field, from
// govmomi's `vim` struct tags, independent of the collector's own reading.

var serverTypes = map[string]reflect.Type{
	"HostSystem":                     reflect.TypeOf(mo.HostSystem{}),
	"VirtualMachine":                 reflect.TypeOf(mo.VirtualMachine{}),
	"DistributedVirtualPortgroup":    reflect.TypeOf(mo.DistributedVirtualPortgroup{}),
	"DistributedVirtualSwitch":       reflect.TypeOf(mo.DistributedVirtualSwitch{}),
	"VmwareDistributedVirtualSwitch": reflect.TypeOf(mo.VmwareDistributedVirtualSwitch{}),
	"OpaqueNetwork":                  reflect.TypeOf(mo.OpaqueNetwork{}),
}

// serverSince lists fields the tags omit: NSX-backed port groups (7.0).
var serverSince = map[string]string{
	"DistributedVirtualPortgroup config.backingType":       "7.0.0.0",
	"DistributedVirtualPortgroup config.logicalSwitchUuid": "7.0.0.0",
}

func pathSince(typ, path string) string {
	if v := serverSince[typ+" "+path]; v != "" {
		return v
	}
	t, ok := serverTypes[typ]
	if !ok {
		return ""
	}
	newest := ""
	for _, seg := range strings.Split(path, ".") {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return newest
		}
		f, ok := structField(t, seg)
		if !ok {
			return newest
		}
		if v := f.Tag.Get("vim"); v != "" && older(newest, v) {
			newest = v
		}
		t = f.Type
	}
	return newest
}

func structField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if g, ok := structField(f.Type, name); ok {
				return g, true
			}
			continue
		}
		for _, key := range []string{"xml", "json"} {
			if tag, _, _ := strings.Cut(f.Tag.Get(key), ","); tag == name {
				return f, true
			}
		}
	}
	return reflect.StructField{}, false
}

// older reports whether release a predates b ("" predates everything).
func older(a, b string) bool {
	if a == "" {
		return b != ""
	}
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		x, y := 0, 0
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}
