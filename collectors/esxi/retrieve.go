package esxi

import (
	"context"
	"fmt"
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
		"capability.uefiSecureBoot", "configManager.firewallSystem",
	},
	"VirtualMachine": {
		"name", "config.uuid", "config.instanceUuid", "config.template", "config.guestFullName",
		"config.keyId", "config.hardware.device", "config.migrateEncryption", "config.ftEncryptionMode",
		"config.firmware", "config.bootOptions", "config.extraConfig", "config.flags", "config.sevEnabled",
		"runtime.powerState", "runtime.host", "runtime.connectionState", "snapshot", "guest.toolsVersion",
	},
	"DistributedVirtualPortgroup": {"name", "key", "config.defaultPortConfig", "config.distributedVirtualSwitch", "vm"},
	"DistributedVirtualSwitch":    {"name", "config.uplinkPortgroup"},
	"ClusterComputeResource":      {"name"},
}

// viewTypes are the container views created, one per object type.
var viewTypes = []string{"HostSystem", "VirtualMachine", "DistributedVirtualPortgroup", "DistributedVirtualSwitch", "ClusterComputeResource"}

// retrieve reads the inventory in one paged property-collector stream over
// one container view per type, then every per-host and singleton manager
// object (firewalls, key providers, vCenter settings) in one batched call.
func retrieve(ctx context.Context, vc *vim25.Client, pageSize int32) (*Data, error) {
	d := &Data{About: vc.ServiceContent.About, RetrievedAt: time.Now().UTC()}
	m := view.NewManager(vc)
	var views []*view.ContainerView
	defer func() {
		for _, v := range views {
			dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = v.Destroy(dctx)
			cancel()
		}
	}()
	spec := types.PropertyFilterSpec{}
	for _, typ := range viewTypes {
		v, err := m.CreateContainerView(ctx, vc.ServiceContent.RootFolder, []string{typ}, true)
		if err != nil {
			return nil, fmt.Errorf("creating the %s view: %w", typ, err)
		}
		views = append(views, v)
		spec.ObjectSet = append(spec.ObjectSet, types.ObjectSpec{
			Obj: v.Reference(), Skip: types.NewBool(true),
			SelectSet: []types.BaseSelectionSpec{&types.TraversalSpec{Type: "ContainerView", Path: "view"}},
		})
		spec.PropSet = append(spec.PropSet, types.PropertySpec{Type: typ, PathSet: paths[typ]})
	}
	objs, err := retrievePaged(ctx, vc, spec, pageSize)
	if err != nil {
		return nil, err
	}
	d.Objects = objs

	// Second pass: manager objects found in the first, in one call.
	var batch types.PropertyFilterSpec
	add := func(ref types.ManagedObjectReference, props ...string) {
		batch.ObjectSet = append(batch.ObjectSet, types.ObjectSpec{Obj: ref})
		for _, ps := range batch.PropSet {
			if ps.Type == ref.Type {
				return
			}
		}
		batch.PropSet = append(batch.PropSet, types.PropertySpec{Type: ref.Type, PathSet: props})
	}
	for _, o := range objs {
		if o.Obj.Type != "HostSystem" {
			continue
		}
		for _, p := range o.PropSet {
			if ref, ok := p.Val.(types.ManagedObjectReference); ok && p.Name == "configManager.firewallSystem" {
				add(ref, "firewallInfo")
			}
		}
	}
	if vc.IsVC() {
		if cm := vc.ServiceContent.CryptoManager; cm != nil && cm.Type == "CryptoManagerKmip" {
			add(*cm, "kmipServers")
		}
		if s := vc.ServiceContent.Setting; s != nil {
			add(*s, "setting")
		}
	}
	if len(batch.ObjectSet) > 0 {
		more, err := retrievePaged(ctx, vc, batch, pageSize)
		if err != nil {
			return nil, err
		}
		d.Objects = append(d.Objects, more...)
	}
	// Third pass: settings and methods the security checks need.
	more, queries, err := securityPass(ctx, vc, d.Objects, pageSize)
	if err != nil {
		return nil, err
	}
	d.Objects, d.Queries = append(d.Objects, more...), queries
	return d, nil
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
	for token != "" {
		next, err := methods.ContinueRetrievePropertiesEx(ctx, vc, &types.ContinueRetrievePropertiesEx{This: pc, Token: token})
		if err != nil {
			return nil, fmt.Errorf("continuing a property retrieval: %w", err)
		}
		out = append(out, next.Returnval.Objects...)
		token = next.Returnval.Token
	}
	return out, nil
}
