package esxi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// paths lists, per managed object type, exactly the properties read. Never
// "all", never a whole VM config: an estate of thousands of VMs stays cheap.
var paths = map[string][]string{
	"HostSystem": {
		"name", "parent", "runtime.connectionState", "summary.config.product",
		"config.certificate", "config.virtualNicManagerInfo", "config.network",
		"config.option", "config.service", "config.lockdownMode", "config.dateTimeInfo",
		"capability.uefiSecureBoot", "config.firewall",
	},
	"VirtualMachine": {
		"name", "config.uuid", "config.instanceUuid", "config.template", "config.guestFullName",
		"config.keyId", "config.hardware.device", "config.migrateEncryption", "config.ftEncryptionMode",
		"config.firmware", "config.bootOptions", "config.extraConfig", "config.flags", "config.sevEnabled",
		"runtime.powerState", "runtime.host", "runtime.connectionState", "snapshot", "guest.toolsVersion",
	},
	"DistributedVirtualPortgroup": {
		"name", "key", "config.defaultPortConfig", "config.distributedVirtualSwitch", "config.uplink",
		"config.backingType", "config.logicalSwitchUuid", "vm",
	},
	// A real vCenter's switches are VmwareDistributedVirtualSwitch, a
	// subtype; govmomi's simulator makes plain DistributedVirtualSwitch.
	"DistributedVirtualSwitch":       {"name", "config.uplinkPortgroup"},
	"VmwareDistributedVirtualSwitch": {"name", "config.uplinkPortgroup"},
	// NSX segments as VMs see them (NSX-T on N-VDS, VMware Cloud on AWS).
	"OpaqueNetwork":          {"name", "summary", "vm"},
	"ClusterComputeResource": {"name"},
}

// Properties returns the property paths an audit reads from objects of a
// managed object type (a copy): benchmarks read the same ones to measure
// the floor any collection of them costs.
func Properties(typ string) []string { return slices.Clone(paths[typ]) }

// viewTypes are the container views created: one per kind of object, with
// every type name that kind takes.
var viewTypes = [][]string{
	{"HostSystem"}, {"VirtualMachine"}, {"DistributedVirtualPortgroup"},
	{"DistributedVirtualSwitch", "VmwareDistributedVirtualSwitch"}, {"OpaqueNetwork"}, {"ClusterComputeResource"},
}

// retrieve reads the inventory in one paged property-collector stream over
// one container view per kind, then the singleton manager objects (key
// providers, vCenter settings) in one batched call, then the security pass
// (retrieve_security.go). Properties the server's API release lacks are not
// asked for; an object that cannot be read costs only its own properties.
// The stream stays one: retrievals side by side would save the security
// pass's time on a simulator but make the page a fault strikes, and so
// what is redone after it, depend on timing.
func retrieve(ctx context.Context, vc *vim25.Client, pageSize int32) (*Data, error) {
	d := &Data{About: vc.ServiceContent.About, RetrievedAt: time.Now().UTC()}
	views, err := createViews(ctx, vc)
	defer destroyViews(views)
	if err != nil {
		return nil, err
	}
	spec := types.PropertyFilterSpec{}
	for i, kind := range viewTypes {
		spec.ObjectSet = append(spec.ObjectSet, types.ObjectSpec{
			Obj: views[i].Reference(), Skip: types.NewBool(true),
			SelectSet: []types.BaseSelectionSpec{&types.TraversalSpec{Type: "ContainerView", Path: "view"}},
		})
		for _, typ := range kind {
			spec.PropSet = append(spec.PropSet, types.PropertySpec{Type: typ, PathSet: d.supported(typ, paths[typ])})
		}
	}
	objs, err := d.retrieveKnown(ctx, vc, spec, pageSize)
	if err != nil {
		return nil, err
	}
	d.Objects = objs

	// Second pass: singleton managers, in one call.
	var batch []objectPaths
	if vc.IsVC() {
		if cm := vc.ServiceContent.CryptoManager; cm != nil && cm.Type == "CryptoManagerKmip" {
			batch = append(batch, objectPaths{*cm, d.supported(cm.Type, []string{"kmipServers"})})
		}
		if s := vc.ServiceContent.Setting; s != nil {
			batch = append(batch, objectPaths{*s, []string{"setting"}})
		}
	}
	more, err := retrieveEach(ctx, vc, batch, pageSize)
	if err != nil {
		return nil, err
	}
	d.Objects = append(d.Objects, more...)

	// Third pass: settings and methods the security checks need.
	more, queries, err := securityPass(ctx, vc, d.Objects, pageSize)
	if err != nil {
		return nil, err
	}
	d.Objects, d.Queries = append(d.Objects, more...), queries
	return d, nil
}

// createViews creates one container view per kind, all at once: on a
// distant vCenter six calls in a row would cost six round trips of latency.
// Whatever was created is returned, with the first error.
func createViews(ctx context.Context, vc *vim25.Client) ([]*view.ContainerView, error) {
	m := view.NewManager(vc)
	views := make([]*view.ContainerView, len(viewTypes))
	errs := make([]error, len(viewTypes))
	var wg sync.WaitGroup
	for i, kind := range viewTypes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := m.CreateContainerView(ctx, vc.ServiceContent.RootFolder, kind, true)
			if err != nil {
				errs[i] = fmt.Errorf("creating the %s view: %w", strings.Join(kind, "/"), err)
				return
			}
			views[i] = v
		}()
	}
	wg.Wait()
	return views, errors.Join(errs...)
}

// destroyViews destroys the views created, all at once, even when the
// audit's context is done: a view left behind holds server memory until
// the session ends.
func destroyViews(views []*view.ContainerView) {
	var wg sync.WaitGroup
	for _, v := range views {
		if v == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = v.Destroy(dctx)
		}()
	}
	wg.Wait()
}

// supported drops the paths the server's API release predates and records
// them, so the normalizer can say which release would have them.
func (d *Data) supported(typ string, list []string) []string {
	out := make([]string, 0, len(list))
	for _, p := range list {
		if since := propertySince(typ, p); since != "" && apiBefore(d.About.ApiVersion, since) {
			d.Skipped = append(d.Skipped, SkippedProperty{Type: typ, Path: p, Since: since,
				Reason: unavailableReason(since, "the server is at", d.About.ApiVersion)})
			continue
		}
		out = append(out, p)
	}
	return out
}

// retrieveKnown retrieves spec; when the server refuses a path it does not
// know (InvalidProperty: a real vCenter fails the whole call), that path is
// recorded as skipped and the rest is retrieved again.
func (d *Data) retrieveKnown(ctx context.Context, vc *vim25.Client, spec types.PropertyFilterSpec, pageSize int32) ([]types.ObjectContent, error) {
	for {
		objs, err := retrievePaged(ctx, vc, spec, pageSize)
		bad, ok := faultOf(err).(*types.InvalidProperty)
		if err == nil || !ok {
			return objs, err
		}
		dropped := false
		for i := range spec.PropSet {
			ps := &spec.PropSet[i]
			kept := ps.PathSet[:0:0]
			for _, p := range ps.PathSet {
				if p == bad.Name || strings.HasSuffix(p, "."+bad.Name) {
					d.Skipped = append(d.Skipped, SkippedProperty{Type: ps.Type, Path: p, Since: propertySince(ps.Type, p),
						Reason: "the server does not know this property (InvalidProperty)"})
					dropped = true
					continue
				}
				kept = append(kept, p)
			}
			ps.PathSet = kept
		}
		if !dropped {
			return nil, err
		}
	}
}

// objectPaths is one object and the properties read from it.
type objectPaths struct {
	ref   types.ManagedObjectReference
	paths []string
}

// retrieveEach reads several objects in one call. An object the server
// cannot read (ManagedObjectNotFound, NoPermission) is taken out and its
// properties are recorded as missing with the server's fault, exactly as if
// the server had returned them in a MissingSet; the others are read again.
// A fault that names no object falls back to one call per object.
func retrieveEach(ctx context.Context, vc *vim25.Client, objs []objectPaths, pageSize int32) ([]types.ObjectContent, error) {
	var out []types.ObjectContent
	for len(objs) > 0 {
		got, err := retrievePaged(ctx, vc, batchSpec(objs), pageSize)
		if err == nil {
			return append(out, got...), nil
		}
		if !isPerObjectFault(err) {
			return nil, err
		}
		if ref, f, ok := objectFault(err); ok {
			if i := slices.IndexFunc(objs, func(o objectPaths) bool { return o.ref == ref }); i >= 0 {
				out = append(out, unreadable(objs[i], f))
				objs = slices.Delete(objs, i, i+1)
				continue
			}
		}
		if len(objs) == 1 {
			return append(out, unreadable(objs[0], faultOf(err))), nil
		}
		for _, o := range objs {
			more, err := retrieveEach(ctx, vc, []objectPaths{o}, pageSize)
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
		}
		return out, nil
	}
	return out, nil
}

func batchSpec(objs []objectPaths) types.PropertyFilterSpec {
	var spec types.PropertyFilterSpec
	for _, o := range objs {
		spec.ObjectSet = append(spec.ObjectSet, types.ObjectSpec{Obj: o.ref})
		i := slices.IndexFunc(spec.PropSet, func(ps types.PropertySpec) bool { return ps.Type == o.ref.Type })
		if i < 0 {
			spec.PropSet = append(spec.PropSet, types.PropertySpec{Type: o.ref.Type, PathSet: o.paths})
		}
	}
	return spec
}

// unreadable records every property of an object the server refused.
func unreadable(o objectPaths, f types.BaseMethodFault) types.ObjectContent {
	oc := types.ObjectContent{Obj: o.ref}
	for _, p := range o.paths {
		oc.MissingSet = append(oc.MissingSet, types.MissingProperty{Path: p, Fault: types.LocalizedMethodFault{Fault: f, LocalizedMessage: faultMessage(f)}})
	}
	return oc
}

// objectFault extracts the object a per-object fault names.
func objectFault(err error) (types.ManagedObjectReference, types.BaseMethodFault, bool) {
	f := faultOf(err)
	switch x := f.(type) {
	case *types.ManagedObjectNotFound:
		return x.Obj, f, true
	case *types.NoPermission:
		if x.Object != nil {
			return *x.Object, f, true
		}
	}
	return types.ManagedObjectReference{}, nil, false
}

// isPerObjectFault: the server answered with a fault about what was asked
// (not the session, not the transport), so other objects may still be read.
func isPerObjectFault(err error) bool {
	f := faultOf(err)
	if f == nil {
		return false
	}
	switch f.(type) {
	case *types.NotAuthenticated, *types.InvalidLogin:
		return false
	}
	return true
}

// faultOf returns the vSphere fault an error carries, nil for a transport
// or context error.
func faultOf(err error) types.BaseMethodFault {
	var hf interface{ Fault() types.BaseMethodFault }
	if errors.As(err, &hf) {
		return hf.Fault()
	}
	return nil
}

func faultMessage(f types.BaseMethodFault) string {
	switch x := f.(type) {
	case *types.ManagedObjectNotFound:
		return "the server has no object " + x.Obj.String()
	case *types.NoPermission:
		if x.PrivilegeId != "" {
			return "the audit account lacks privilege " + x.PrivilegeId
		}
		return "the audit account lacks permission"
	}
	return ""
}

// retrievePaged streams RetrievePropertiesEx pages, following the token
// with ContinueRetrievePropertiesEx: the server may cut a page short.
func retrievePaged(ctx context.Context, vc *vim25.Client, spec types.PropertyFilterSpec, pageSize int32) ([]types.ObjectContent, error) {
	pc := vc.ServiceContent.PropertyCollector
	res, err := methods.RetrievePropertiesEx(ctx, vc, &types.RetrievePropertiesEx{
		This: pc, SpecSet: []types.PropertyFilterSpec{spec}, Options: types.RetrieveOptions{MaxObjects: pageSize},
	})
	if err != nil {
		return nil, fmt.Errorf("retrieving properties: %w", err)
	}
	if res.Returnval == nil {
		return nil, nil
	}
	out := res.Returnval.Objects
	token := res.Returnval.Token
	for page := 2; token != ""; page++ {
		next, err := methods.ContinueRetrievePropertiesEx(ctx, vc, &types.ContinueRetrievePropertiesEx{This: pc, Token: token})
		if err != nil {
			return nil, fmt.Errorf("reading page %d of a property retrieval: %w", page, err)
		}
		out = append(out, next.Returnval.Objects...)
		token = next.Returnval.Token
	}
	return out, nil
}

// isSessionLost reports that the server no longer knows the session (it
// expired or was terminated).
func isSessionLost(err error) bool {
	_, ok := faultOf(err).(*types.NotAuthenticated)
	return ok
}

// isTransient reports a broken connection (reset, cut mid-response): the
// server may have consumed a page, so the retrieval is redone from the
// start, never continued.
func isTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || faultOf(err) != nil {
		return false
	}
	msg := err.Error()
	for _, s := range []string{"EOF", "connection reset", "broken pipe", "connection refused", "use of closed network connection"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
