package hyperv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Instance is one WMI instance as ConvertTo-Json writes it: property name
// → value (string, bool, json.Number, []any, map[string]any or nil).
type Instance map[string]any

// Instances is a query's result. It unmarshals from what real captures
// contain: an array of instances, a single instance serialised as an
// object (ConvertTo-Json's habit for one result), or null (none).
type Instances []Instance

// UnmarshalJSON accepts an array, a single object or null.
func (in *Instances) UnmarshalJSON(b []byte) error {
	list, err := ParseInstances(b)
	if err != nil {
		return err
	}
	*in = list
	return nil
}

// ParseInstances decodes ConvertTo-Json output: an array of objects, one
// object, null or nothing (an empty pipeline writes no output). Numbers
// stay json.Number so 64-bit values are exact. Array elements that are
// not objects are an error: they are not instances.
func ParseInstances(b []byte) (Instances, error) {
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return Instances{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("instances are not JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("instances: trailing data after the JSON value")
	}
	switch t := v.(type) {
	case nil:
		return Instances{}, nil
	case map[string]any:
		return Instances{Instance(t)}, nil
	case []any:
		out := make(Instances, 0, len(t))
		for i, e := range t {
			switch m := e.(type) {
			case map[string]any:
				out = append(out, Instance(m))
			case nil:
				// A null element carries nothing; skip it.
			default:
				return nil, fmt.Errorf("instances: element %d is a %T, not an object", i, e)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("instances: a %T is neither an object nor an array", v)
}

// Query is one WQL query: every instance of one class in one namespace,
// keeping the listed properties. Queries are never built from user input:
// they come from Catalog, and Validate checks every name against the
// allow-lists before a source runs one.
type Query struct {
	Namespace  string   `json:"namespace"`
	Class      string   `json:"class"`
	Properties []string `json:"properties"`
	// Optional: the class or namespace may be absent on a host (an older
	// Windows Server, a role not installed); its failure is recorded, not
	// fatal.
	Optional bool `json:"optional,omitempty"`
}

// WQL is the query text: SELECT * so that a property an older host lacks
// does not fail the whole query; the source keeps Properties only.
func (q Query) WQL() string { return "SELECT * FROM " + q.Class }

// Key names the query in Data and in gaps: "root\virtualization\v2:Msvm_ComputerSystem".
func (q Query) Key() string { return q.Namespace + ":" + q.Class }

// MethodCall is one WMI method call. Only AllowedMethods may be called.
type MethodCall struct {
	Namespace string `json:"namespace"`
	Class     string `json:"class"`
	Method    string `json:"method"`
	// Args are the in-parameters; values are strings or uint32.
	Args map[string]any `json:"args"`
	// Outputs are the out-parameters kept.
	Outputs []string `json:"outputs"`
}

// Key names the call in Data and in gaps.
func (m MethodCall) Key() string { return m.Namespace + ":" + m.Class + "." + m.Method }

// Source runs read-only WMI operations against one Hyper-V host.
type Source interface {
	// Query runs one WQL query and returns its instances, each restricted
	// to q.Properties.
	Query(ctx context.Context, q Query) (Instances, error)
	// Method calls a read-only method (StdRegProv.GetDWORDValue) and
	// returns its out-parameters.
	Method(ctx context.Context, m MethodCall) (Instance, error)
	// Calls is the number of round trips made so far.
	Calls() int
	// Close releases the connection.
	Close() error
}

// Batcher is a Source that can run many queries in one round trip (the
// WinRM source runs them in one PowerShell process). The result has one
// entry per query, in order.
type Batcher interface {
	QueryBatch(ctx context.Context, qs []Query, ms []MethodCall) ([]QueryResult, []MethodResult, error)
}

// WMI namespaces hvaudit reads.
const (
	NSVirtualization = `root\virtualization\v2`
	NSCIMv2          = `root\cimv2`
	NSDeviceGuard    = `root\Microsoft\Windows\DeviceGuard`
	NSHgs            = `root\Microsoft\Windows\Hgs`
	NSSMB            = `root\Microsoft\Windows\SMB`
)

// Registry hive and key of the UBR value.
const (
	hkeyLocalMachine = uint32(0x80000002)
	ntCurrentVersion = `SOFTWARE\Microsoft\Windows NT\CurrentVersion`
)

// Catalog is every query Fetch runs: one per class, never per VM
// (DESIGN.md §7). The capture script holds the same list; a test keeps
// them equal.
var Catalog = []Query{
	{Namespace: NSCIMv2, Class: "Win32_OperatingSystem", Properties: []string{"CSName", "Caption", "Version", "BuildNumber", "LastBootUpTime", "ProductType"}},
	{Namespace: NSCIMv2, Class: "Win32_QuickFixEngineering", Properties: []string{"HotFixID", "Description", "InstalledOn", "InstalledBy"}},
	{Namespace: NSCIMv2, Class: "Win32_NetworkAdapterConfiguration", Properties: []string{"Description", "InterfaceIndex", "IPEnabled", "IPAddress", "IPSubnet", "DefaultIPGateway"}},
	{Namespace: NSVirtualization, Class: "Msvm_ComputerSystem", Properties: []string{"Name", "ElementName", "Caption", "EnabledState", "OnTimeInMilliseconds", "TimeOfLastStateChange", "InstallDate"}},
	{Namespace: NSVirtualization, Class: "Msvm_VirtualSystemSettingData", Properties: []string{"InstanceID", "ConfigurationID", "VirtualSystemIdentifier", "VirtualSystemType", "VirtualSystemSubType", "ElementName", "Version", "SecureBootEnabled", "SecureBootTemplateId", "AutomaticSnapshotsEnabled", "CreationTime", "IsAutomaticSnapshot", "DebugPortEnabled"}},
	{Namespace: NSVirtualization, Class: "Msvm_SecuritySettingData", Properties: []string{"InstanceID", "TpmEnabled", "KsdEnabled", "ShieldingRequested", "DataProtectionRequested", "EncryptStateAndVmMigrationTraffic", "VirtualizationBasedSecurityOptOut", "BindToHostTpm"}},
	{Namespace: NSVirtualization, Class: "Msvm_SecurityElement", Properties: []string{"SystemName", "Shielded", "EncryptStateAndVmMigrationTrafficEnabled"}},
	{Namespace: NSVirtualization, Class: "Msvm_GuestServiceInterfaceComponentSettingData", Properties: []string{"InstanceID", "EnabledState"}},
	{Namespace: NSVirtualization, Class: "Msvm_ProcessorSettingData", Properties: []string{"InstanceID", "ExposeVirtualizationExtensions", "DisableSpeculationControls", "HwThreadsPerCore"}},
	{Namespace: NSVirtualization, Class: "Msvm_VirtualEthernetSwitch", Properties: []string{"Name", "ElementName"}},
	{Namespace: NSVirtualization, Class: "Msvm_EthernetSwitchPort", Properties: []string{"Name", "SystemName", "ElementName"}},
	{Namespace: NSVirtualization, Class: "Msvm_SyntheticEthernetPortSettingData", Properties: []string{"InstanceID", "ElementName", "Address", "StaticMacAddress"}},
	{Namespace: NSVirtualization, Class: "Msvm_EthernetPortAllocationSettingData", Properties: []string{"InstanceID", "ElementName", "HostResource", "Parent", "EnabledState"}},
	{Namespace: NSVirtualization, Class: "Msvm_EthernetSwitchPortVlanSettingData", Properties: []string{"InstanceID", "OperationMode", "AccessVlanId", "NativeVlanId", "TrunkVlanIdArray", "PrimaryVlanId", "SecondaryVlanId"}},
	{Namespace: NSVirtualization, Class: "Msvm_EthernetSwitchPortSecuritySettingData", Properties: []string{"InstanceID", "AllowMacSpoofing", "EnableDhcpGuard", "EnableRouterGuard", "MonitorMode"}},
	{Namespace: NSVirtualization, Class: "Msvm_VirtualSystemMigrationServiceSettingData", Properties: []string{"EnableVirtualSystemMigration", "AuthenticationType", "EnableCompression", "EnableSmbTransport", "MaximumActiveVirtualSystemMigration", "MaximumActiveStorageMigration"}},
	{Namespace: NSVirtualization, Class: "Msvm_VirtualSystemMigrationNetworkSettingData", Properties: []string{"InstanceID", "SubnetNumber", "PrefixLength", "Metric", "Tags"}},
	{Namespace: NSVirtualization, Class: "Msvm_VirtualSystemManagementServiceSettingData", Properties: []string{"EnhancedSessionModeEnabled", "DefaultVirtualHardDiskPath", "DefaultExternalDataRoot"}},
	{Namespace: NSSMB, Class: "MSFT_SmbServerConfiguration", Properties: []string{"EncryptData", "RejectUnencryptedAccess", "RequireSecuritySignature"}},
	{Namespace: NSDeviceGuard, Class: "Win32_DeviceGuard", Properties: []string{"VirtualizationBasedSecurityStatus", "SecurityServicesConfigured", "SecurityServicesRunning", "RequiredSecurityProperties", "AvailableSecurityProperties"}, Optional: true},
	{Namespace: NSHgs, Class: "MSFT_HgsClientConfiguration", Properties: []string{"IsHostGuarded", "Mode", "AttestationOperationMode", "AttestationStatus", "AttestationServerUrl", "KeyProtectionServerUrl"}, Optional: true},
}

// UBRCall reads the update build revision from the registry.
var UBRCall = MethodCall{
	Namespace: NSCIMv2, Class: "StdRegProv", Method: "GetDWORDValue",
	Args:    map[string]any{"hDefKey": hkeyLocalMachine, "sSubKeyName": ntCurrentVersion, "sValueName": "UBR"},
	Outputs: []string{"ReturnValue", "uValue"},
}

// Methods is every method call Fetch makes.
var Methods = []MethodCall{UBRCall}

var (
	allowedNamespaces = map[string]bool{NSVirtualization: true, NSCIMv2: true, NSDeviceGuard: true, NSHgs: true, NSSMB: true}
	allowedClasses    = func() map[string]bool {
		m := map[string]bool{}
		for _, q := range Catalog {
			m[q.Class] = true
		}
		return m
	}()
	// AllowedMethods are the only methods a source calls: registry reads.
	allowedMethods = map[string]bool{"StdRegProv.GetDWORDValue": true}
	identifier     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	// safeArg is what a string argument may contain: a registry path.
	safeArg = regexp.MustCompile(`^[A-Za-z0-9 _.\\-]{0,256}$`)
)

// Validate checks a query against the allow-lists, so that no name can
// carry PowerShell or WQL syntax into a command.
func (q Query) Validate() error {
	if !allowedNamespaces[q.Namespace] {
		return fmt.Errorf("namespace %q is not one hvaudit reads", q.Namespace)
	}
	if !allowedClasses[q.Class] || !identifier.MatchString(q.Class) {
		return fmt.Errorf("class %q is not one hvaudit reads", q.Class)
	}
	if len(q.Properties) == 0 {
		return fmt.Errorf("query of %s lists no properties", q.Class)
	}
	for _, p := range q.Properties {
		if !identifier.MatchString(p) {
			return fmt.Errorf("property name %q of %s is not an identifier", p, q.Class)
		}
	}
	return nil
}

// Validate checks a method call against the allow-lists.
func (m MethodCall) Validate() error {
	if !allowedNamespaces[m.Namespace] {
		return fmt.Errorf("namespace %q is not one hvaudit reads", m.Namespace)
	}
	if !allowedMethods[m.Class+"."+m.Method] {
		return fmt.Errorf("method %s.%s is not one hvaudit calls", m.Class, m.Method)
	}
	for k, v := range m.Args {
		if !identifier.MatchString(k) {
			return fmt.Errorf("argument name %q is not an identifier", k)
		}
		switch t := v.(type) {
		case uint32:
		case string:
			if !safeArg.MatchString(t) {
				return fmt.Errorf("argument %s has characters hvaudit does not pass", k)
			}
		default:
			return fmt.Errorf("argument %s has type %T; only string and uint32 are passed", k, v)
		}
	}
	for _, o := range m.Outputs {
		if !identifier.MatchString(o) {
			return fmt.Errorf("output name %q is not an identifier", o)
		}
	}
	return nil
}

// keep restricts an instance to the listed properties; a listed property
// the instance lacks stays absent (the mapper reports it as a gap).
func keep(in Instance, props []string) Instance {
	out := Instance{}
	for _, p := range props {
		if v, ok := in[p]; ok {
			out[p] = v
			continue
		}
		for k, v := range in {
			if strings.EqualFold(k, p) {
				out[p] = v
				break
			}
		}
	}
	return out
}
