package esxi

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vsan"
	vsanmethods "github.com/vmware/govmomi/vsan/methods"
	vsantypes "github.com/vmware/govmomi/vsan/types"
)

// The security pass reads what the inventory passes do not: the settings of
// host managers and distributed switches (properties, one batched call) and
// the facts that only read methods return. Those cost one call per host
// (image acceptance level, lockdown exceptions) and one per vSAN cluster,
// never one per VM. A fault on a method is recorded with its query and
// costs that one fact, never the target.

// securityPaths are read in the first pass besides paths (retrieve.go).
var securityPaths = map[string][]string{
	"HostSystem": {
		"runtime.stateEncryption", "config.authenticationManagerInfo", "summary.managementServerIp",
		"configManager.snmpSystem", "configManager.imageConfigManager", "configManager.hostAccessManager",
		"config.fileSystemVolume.mountInfo", "config.storageDevice.hostBusAdapter", "config.vsanHostConfig.enabled",
	},
	"VirtualMachine":              {"runtime.faultToleranceState"},
	"DistributedVirtualPortgroup": {"config.policy"},
}

func init() {
	for typ, ps := range securityPaths {
		paths[typ] = append(paths[typ], ps...)
	}
}

// switchPaths are a distributed switch's switch-wide settings. VMware's
// switch (every switch vCenter creates) has them as separate properties;
// a switch of the base type (the simulator's, third-party ones) is read
// whole, since the VMware-only paths are invalid for it.
var switchPaths = map[string][]string{
	"VmwareDistributedVirtualSwitch": {"config.vspanSession", "config.linkDiscoveryProtocolConfig", "config.healthCheckConfig"},
	"DistributedVirtualSwitch":       {"config"},
}

// Query is one read method's answer: the object asked (a host's manager,
// vSAN's cluster configuration system), the object the answer is about, and
// either the result as plain JSON or the fault that stopped it.
type Query struct {
	Object types.ManagedObjectReference `json:"object"`
	About  types.ManagedObjectReference `json:"about"`
	Method string                       `json:"method"`
	Result json.RawMessage              `json:"result,omitempty"`
	Fault  string                       `json:"fault,omitempty"`
}

// Method names, as sent and as recorded in Query.Method.
const (
	methodAcceptance = "HostImageConfigGetAcceptance"
	methodExceptions = "QueryLockdownExceptions"
	methodVSANConfig = "VsanClusterGetConfig"
)

// vsanConfig is the part of VsanClusterGetConfig's answer the checks use.
type vsanConfig struct {
	Enabled       *bool `json:"enabled,omitempty"`
	DataAtRest    *bool `json:"dataEncryptionEnabled,omitempty"`
	DataInTransit *bool `json:"dataInTransitEncryptionEnabled,omitempty"`
}

// queryConcurrency bounds the per-host method calls in flight.
const queryConcurrency = 8

func securityPass(ctx context.Context, vc *vim25.Client, objs []types.ObjectContent, pageSize int32) ([]types.ObjectContent, []Query, error) {
	// A manager the host does not have (or the server cannot find) is
	// reported missing in the results, not a fault on the whole call.
	batch := types.PropertyFilterSpec{ReportMissingObjectsInResults: types.NewBool(true)}
	specs := map[string]bool{}
	add := func(ref types.ManagedObjectReference, props []string) {
		batch.ObjectSet = append(batch.ObjectSet, types.ObjectSpec{Obj: ref})
		if !specs[ref.Type] {
			specs[ref.Type] = true
			batch.PropSet = append(batch.PropSet, types.PropertySpec{Type: ref.Type, PathSet: props})
		}
	}
	type call struct {
		method string
		obj    types.ManagedObjectReference
		about  types.ManagedObjectReference
	}
	var calls []call
	vsanClusters := map[types.ManagedObjectReference]bool{}
	for _, o := range objs {
		if ps, ok := switchPaths[o.Obj.Type]; ok {
			add(o.Obj, ps)
			continue
		}
		if o.Obj.Type != "HostSystem" {
			continue
		}
		var parent types.ManagedObjectReference
		vsanOn := false
		for _, p := range o.PropSet {
			ref, isRef := p.Val.(types.ManagedObjectReference)
			switch {
			case p.Name == "configManager.snmpSystem" && isRef:
				add(ref, []string{"configuration"})
			case p.Name == "configManager.imageConfigManager" && isRef:
				calls = append(calls, call{methodAcceptance, ref, o.Obj})
			case p.Name == "configManager.hostAccessManager" && isRef:
				calls = append(calls, call{methodExceptions, ref, o.Obj})
			case p.Name == "parent" && isRef:
				parent = ref
			case p.Name == "config.vsanHostConfig.enabled":
				vsanOn, _ = p.Val.(bool)
			}
		}
		if vsanOn && parent.Type == "ClusterComputeResource" {
			vsanClusters[parent] = true
		}
	}
	var out []types.ObjectContent
	if len(batch.ObjectSet) > 0 {
		more, err := retrievePaged(ctx, vc, batch, pageSize)
		if err != nil {
			return nil, nil, err
		}
		out = redactSNMP(more)
	}
	if vc.IsVC() {
		clusters := make([]types.ManagedObjectReference, 0, len(vsanClusters))
		for c := range vsanClusters {
			clusters = append(clusters, c)
		}
		sort.Slice(clusters, func(a, b int) bool { return clusters[a].Value < clusters[b].Value })
		for _, c := range clusters {
			calls = append(calls, call{methodVSANConfig, vsan.VsanVcClusterConfigSystemInstance, c})
		}
	}

	queries := make([]Query, len(calls))
	var vsanRT soap.RoundTripper
	if len(vsanClusters) > 0 {
		vsanRT = vsanRoundTripper(vc)
	}
	sem := make(chan struct{}, queryConcurrency)
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			q := Query{Object: c.obj, About: c.about, Method: c.method}
			var result any
			var err error
			switch c.method {
			case methodAcceptance:
				var res *types.HostImageConfigGetAcceptanceResponse
				res, err = methods.HostImageConfigGetAcceptance(ctx, vc, &types.HostImageConfigGetAcceptance{This: c.obj})
				if err == nil {
					result = res.Returnval
				}
			case methodExceptions:
				var res *types.QueryLockdownExceptionsResponse
				res, err = methods.QueryLockdownExceptions(ctx, vc, &types.QueryLockdownExceptions{This: c.obj})
				if err == nil {
					result = append([]string{}, res.Returnval...)
				}
			case methodVSANConfig:
				var res *vsantypes.VsanClusterGetConfigResponse
				res, err = vsanmethods.VsanClusterGetConfig(ctx, vsanRT, &vsantypes.VsanClusterGetConfig{This: c.obj, Cluster: c.about})
				if err == nil {
					result = summarizeVSAN(res.Returnval)
				}
			}
			if err != nil {
				q.Fault = faultText(err)
			} else if q.Result, err = json.Marshal(result); err != nil {
				q.Fault = err.Error()
			}
			queries[i] = q
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return out, queries, nil
}

func summarizeVSAN(info vsantypes.VsanConfigInfoEx) vsanConfig {
	v := vsanConfig{Enabled: info.Enabled}
	if c := info.DataEncryptionConfig; c != nil {
		v.DataAtRest = &c.EncryptionEnabled
	}
	if c := info.DataInTransitEncryptionConfig; c != nil {
		v.DataInTransit = c.Enabled
	}
	return v
}

// vsanRoundTripper talks to vCenter's vsanHealth endpoint with the same
// session, TLS settings and call counting as the vSphere client.
func vsanRoundTripper(vc *vim25.Client) soap.RoundTripper {
	sc := vc.Client.NewServiceClient(vsan.Path, vsan.Namespace)
	if counter, ok := vc.RoundTripper.(*countingRT); ok {
		return &countedVia{rt: sc, counter: counter}
	}
	return sc
}

// countedVia sends through rt and counts on the target's one counter.
type countedVia struct {
	rt      soap.RoundTripper
	counter *countingRT
}

func (c *countedVia) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	c.counter.count(methodName(req))
	return c.rt.RoundTrip(ctx, req, res)
}

// redactSNMP keeps SNMP community strings, which are credentials, out of
// the snapshot: each becomes a placeholder, so their number survives.
func redactSNMP(objs []types.ObjectContent) []types.ObjectContent {
	for i := range objs {
		for j, p := range objs[i].PropSet {
			spec, ok := p.Val.(types.HostSnmpConfigSpec)
			if !ok {
				continue
			}
			communities := make([]string, len(spec.ReadOnlyCommunities))
			for k := range communities {
				communities[k] = redacted
			}
			spec.ReadOnlyCommunities = communities
			spec.TrapTargets = append([]types.HostSnmpDestination(nil), spec.TrapTargets...)
			for k := range spec.TrapTargets {
				if spec.TrapTargets[k].Community != "" {
					spec.TrapTargets[k].Community = redacted
				}
			}
			objs[i].PropSet[j].Val = spec
		}
	}
	return objs
}

const redacted = "[REDACTED]"

// faultText names a method fault and, for a missing privilege, the
// privilege: that is what an administrator needs to fix it.
func faultText(err error) string {
	var np *types.NoPermission
	if msg, ok := fault.As(err, &np); ok && np != nil {
		priv := np.PrivilegeId
		if priv == "" {
			priv = "a privilege the account lacks"
		}
		text := "NoPermission: the audit account needs the " + priv + " privilege"
		if msg != "" {
			text += " (" + msg + ")"
		}
		return text
	}
	if soap.IsSoapFault(err) {
		f := soap.ToSoapFault(err)
		name := strings.TrimPrefix(strings.TrimLeft(fmt.Sprintf("%T", f.VimFault()), "*"), "types.")
		if name == "<nil>" || name == "" {
			return f.String
		}
		return name + ": " + f.String
	}
	return err.Error()
}
