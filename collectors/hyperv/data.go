package hyperv

// Data is Snapshot.Data for platform "hyperv": every query and method call
// Fetch made, with the instances as ConvertTo-Json wrote them. The WinRM
// source, the local WMI source and the capture script
// (capture/Get-HvauditSnapshot.ps1) all write this shape, so
// `hvaudit audit --snapshot` reads a capture like a live collection. It
// never holds a credential.
type Data struct {
	// Source says what produced the data: "winrm", "wmi" (local, Windows
	// build), "capture" (the PowerShell script) or "replay".
	Source string `json:"source"`
	// Host is the host name the URI named (or the capture's computer name).
	Host string `json:"host,omitempty"`
	// PSVersion is the PowerShell version that serialised the instances,
	// where known ("5.1.20348.2582").
	PSVersion string `json:"ps_version,omitempty"`
	// Queries has one entry per Catalog query, in Catalog order.
	Queries []QueryResult `json:"queries"`
	// Methods has one entry per method call.
	Methods []MethodResult `json:"methods"`
}

// QueryResult is one query as run.
type QueryResult struct {
	Namespace string `json:"namespace"`
	Class     string `json:"class"`
	// Instances as ConvertTo-Json wrote them: an array, a single object or
	// null are all accepted.
	Instances Instances `json:"instances"`
	// Error is the failure's message; Instances is then empty.
	Error string `json:"error,omitempty"`
}

// MethodResult is one method call as made.
type MethodResult struct {
	Namespace string `json:"namespace"`
	Class     string `json:"class"`
	Method    string `json:"method"`
	// Result holds the out-parameters (ReturnValue, uValue).
	Result Instance `json:"result"`
	Error  string   `json:"error,omitempty"`
}

// query returns the recorded result of a class's query, nil when it was
// not recorded at all.
func (d *Data) query(class string) *QueryResult {
	for i := range d.Queries {
		if d.Queries[i].Class == class {
			return &d.Queries[i]
		}
	}
	return nil
}

// method returns the recorded result of a method call.
func (d *Data) method(class, method string) *MethodResult {
	for i := range d.Methods {
		if d.Methods[i].Class == class && d.Methods[i].Method == method {
			return &d.Methods[i]
		}
	}
	return nil
}
