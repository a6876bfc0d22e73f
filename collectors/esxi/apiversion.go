package esxi

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// A property path names fields that appeared in different vSphere API
// releases. govmomi's generated types carry the release that introduced a
// field in their `vim` struct tag (HostCapability.uefiSecureBoot is
// vim:"8.0.3.0"); the release a path needs is the newest along it. A server
// older than that does not know the path (a real vCenter fails the whole
// RetrievePropertiesEx with InvalidProperty), and a host older than that
// never fills it in.

// sinceOverrides fills in releases govmomi's tags leave out for paths hvaudit
// reads: the NSX backing of distributed port groups came with vSphere 7.0
// (vSphere Web Services API reference, DVPortgroupConfigInfo).
var sinceOverrides = map[string]map[string]string{
	"DistributedVirtualPortgroup": {"config.backingType": "7.0.0.0", "config.logicalSwitchUuid": "7.0.0.0"},
}

// moTypes are the managed object types hvaudit reads, by vSphere type name.
var moTypes = map[string]reflect.Type{
	"HostSystem":                     reflect.TypeOf(mo.HostSystem{}),
	"VirtualMachine":                 reflect.TypeOf(mo.VirtualMachine{}),
	"DistributedVirtualPortgroup":    reflect.TypeOf(mo.DistributedVirtualPortgroup{}),
	"DistributedVirtualSwitch":       reflect.TypeOf(mo.DistributedVirtualSwitch{}),
	"VmwareDistributedVirtualSwitch": reflect.TypeOf(mo.VmwareDistributedVirtualSwitch{}),
	"OpaqueNetwork":                  reflect.TypeOf(mo.OpaqueNetwork{}),
	"ClusterComputeResource":         reflect.TypeOf(mo.ClusterComputeResource{}),
	"CryptoManagerKmip":              reflect.TypeOf(mo.CryptoManagerKmip{}),
	"OptionManager":                  reflect.TypeOf(mo.OptionManager{}),
}

// propertySince returns the API release that introduced path on managed
// object type typ, "" when it is as old as anything hvaudit supports or
// cannot be told from the types.
func propertySince(typ, path string) string {
	if v := sinceOverrides[typ][path]; v != "" {
		return v
	}
	t, ok := moTypes[typ]
	if !ok {
		return ""
	}
	newest := ""
	for _, seg := range strings.Split(path, ".") {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			break // an interface-typed value: its fields depend on the concrete type
		}
		f, ok := fieldNamed(t, seg)
		if !ok {
			break
		}
		if v := f.Tag.Get("vim"); v != "" && apiBefore(newest, v) {
			newest = v
		}
		t = f.Type
	}
	return newest
}

// fieldNamed finds the field serialised as name (xml tag on vim types, json
// tag on managed object types), looking through embedded structs.
func fieldNamed(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			inner := f.Type
			for inner.Kind() == reflect.Pointer {
				inner = inner.Elem()
			}
			if inner.Kind() == reflect.Struct {
				if g, ok := fieldNamed(inner, name); ok {
					return g, true
				}
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

// apiBefore reports whether API release a is older than b, comparing dotted
// numbers ("6.7.3" < "7.0.2.0" < "7.0.10"). An empty or unreadable a is the
// oldest; an unreadable b is never newer.
func apiBefore(a, b string) bool {
	pa, oka := apiParts(a)
	pb, okb := apiParts(b)
	if !okb {
		return false
	}
	if !oka {
		return true
	}
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func apiParts(v string) ([]int, bool) {
	if v == "" {
		return nil, false
	}
	var out []int
	for _, p := range strings.Split(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

// shortAPI trims a release to what people write: "8.0.3.0" → "8.0.3".
func shortAPI(v string) string {
	parts := strings.Split(v, ".")
	for len(parts) > 2 && parts[len(parts)-1] == "0" {
		parts = parts[:len(parts)-1]
	}
	return strings.Join(parts, ".")
}

// unavailableReason is the gap reason for a property an API release lacks.
func unavailableReason(since, who, api string) string {
	return "not available before vSphere API " + shortAPI(since) + " (" + who + " API " + shortAPI(api) + ")"
}

// hostAPIVersion reads the API release a host reports for itself.
func hostAPIVersion(p props) string {
	switch prod := p.vals["summary.config.product"].(type) {
	case types.AboutInfo:
		return prod.ApiVersion
	case *types.AboutInfo:
		if prod != nil {
			return prod.ApiVersion
		}
	}
	return ""
}
