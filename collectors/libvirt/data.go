package libvirt

import "time"

// Data is Snapshot.Data for platform "kvm": the raw evidence one Fetch
// read, as libvirt and the host returned it. It round-trips through JSON
// and never holds a secret: graphics passwd attributes are removed from
// every stored XML (GraphicsPasswords keeps set/not set), and password
// values in qemu.conf read "[REDACTED]".
type Data struct {
	// URI is the connection URI without credentials or hvaudit parameters.
	URI string `json:"uri"`
	// Driver and Transport are the URI's scheme parts ("qemu", "ssh").
	Driver    string `json:"driver"`
	Transport string `json:"transport,omitempty"`
	// Local: the daemon runs on the audited machine, so Host was read.
	Local bool `json:"local"`
	// ReadOnly: the connection is read-only (the default): opened with
	// virConnectOpenReadOnly and, where a domain exists to ask about,
	// confirmed by the daemon refusing the secure domain XML.
	// ReadOnlyProof says which.
	ReadOnly      bool   `json:"read_only"`
	ReadOnlyProof string `json:"read_only_proof,omitempty"`

	// ConnType is virConnectGetType ("QEMU", "TEST").
	ConnType string `json:"conn_type,omitempty"`
	// LibVersion and HypervisorVersion are major*1,000,000 + minor*1,000 +
	// micro, as virConnectGetLibVersion / virConnectGetVersion return them.
	LibVersion        uint64 `json:"lib_version,omitempty"`
	HypervisorVersion uint64 `json:"hypervisor_version,omitempty"`
	Hostname          string `json:"hostname,omitempty"`
	// CapabilitiesXML is virConnectGetCapabilities.
	CapabilitiesXML string `json:"capabilities_xml,omitempty"`
	// DomainCapabilitiesXML is virConnectGetDomainCapabilities (read-write
	// connections only).
	DomainCapabilitiesXML string `json:"domain_capabilities_xml,omitempty"`

	// Domains come from one virConnectListAllDomains.
	Domains []DomainRecord `json:"domains"`
	// Networks are libvirt virtual networks; nil when not read.
	Networks []NetworkRecord `json:"networks"`
	// Interfaces are the host's interfaces as libvirt's interface driver
	// reports them; nil when not read.
	Interfaces []InterfaceRecord `json:"interfaces"`
	// ConnectionAddresses are the IP addresses the URI's host resolved to
	// when Fetch ran (remote URIs): the host's management address.
	ConnectionAddresses []string `json:"connection_addresses,omitempty"`

	// Host holds host files; nil when the URI is not local. HostSkipped
	// then says why, where the reason is not simply a remote URI.
	Host        *HostFiles `json:"host,omitempty"`
	HostSkipped string     `json:"host_skipped,omitempty"`
	// Runtime is what the host's /proc showed (local URIs): libvirt's
	// daemons, their sockets, and the running domains' QEMU processes.
	Runtime *Runtime `json:"runtime,omitempty"`

	// Errors maps an item that could not be read ("capabilities",
	// "domain_capabilities", "domains", "networks", "interfaces",
	// "hostname", "connection_addresses") to libvirt's reason.
	Errors map[string]string `json:"errors,omitempty"`
}

// why returns the recorded reason an item was not read, else def.
func (d *Data) why(item, def string) string {
	if r := d.Errors[item]; r != "" {
		return def + ": " + r
	}
	return def
}

// DomainRecord is one domain as the API returned it.
type DomainRecord struct {
	Name string `json:"name"`
	UUID string `json:"uuid"`
	// State is virDomainGetState in libvirt's words (running, shutoff …).
	State      string `json:"state,omitempty"`
	Persistent *bool  `json:"persistent,omitempty"`
	Autostart  *bool  `json:"autostart,omitempty"`
	// XML is virDomainGetXMLDesc with every graphics passwd attribute removed.
	XML string `json:"xml"`
	// Secure: XML was read with VIR_DOMAIN_XML_SECURE, so passwords were
	// visible before they were removed and GraphicsPasswords is meaningful.
	Secure bool `json:"secure"`
	// GraphicsPasswords says, per <graphics> element in document order,
	// whether it had a passwd attribute. Only with Secure.
	GraphicsPasswords []bool `json:"graphics_passwords,omitempty"`
	// Tainting are virDomainGetMessages(TAINTING) lines; nil when not read
	// (TaintingError says why).
	Tainting      []string `json:"tainting"`
	TaintingError string   `json:"tainting_error,omitempty"`
	// Snapshots of the domain; nil when not read.
	Snapshots []SnapshotRecord `json:"snapshots"`
	// Error is set when the domain's XML could not be read.
	Error string `json:"error,omitempty"`
	// gone: the domain was undefined between listing and reading.
	gone bool
}

// SnapshotRecord is one domain snapshot.
type SnapshotRecord struct {
	Name string `json:"name"`
	// CreationTime is the snapshot's creationTime (Unix seconds).
	CreationTime int64 `json:"creation_time"`
}

// NetworkRecord is one libvirt virtual network.
type NetworkRecord struct {
	Name       string `json:"name"`
	UUID       string `json:"uuid,omitempty"`
	Active     *bool  `json:"active,omitempty"`
	Autostart  *bool  `json:"autostart,omitempty"`
	Persistent *bool  `json:"persistent,omitempty"`
	XML        string `json:"xml"`
}

// InterfaceRecord is one host interface (virInterfaceGetXMLDesc).
type InterfaceRecord struct {
	Name   string `json:"name"`
	Active *bool  `json:"active,omitempty"`
	XML    string `json:"xml"`
}

// HostFiles are files read under the host root. Paths are absolute paths
// on the audited host ("/etc/libvirt/qemu.conf"), not on the collector's
// machine. /var/lib/dpkg/status is stored filtered to libvirt and QEMU
// packages.
type HostFiles struct {
	// Root is the host root the files were read under ("/" by default).
	Root string `json:"root"`
	// Files maps a path to its content.
	Files map[string]string `json:"files"`
	// Dirs maps a directory read to its entry names, sorted.
	Dirs map[string][]string `json:"dirs"`
	// Missing are paths that do not exist; Errors maps paths that exist but
	// could not be read to the reason.
	Missing []string          `json:"missing"`
	Errors  map[string]string `json:"errors,omitempty"`
	// Skipped maps a file group to why it was not read ("qemu:///session
	// keeps per-user configuration").
	Skipped map[string]string `json:"skipped,omitempty"`
	// ModTimes are the modification times of the configuration files read,
	// to tell a file that changed after the daemon reading it started.
	ModTimes map[string]time.Time `json:"mod_times,omitempty"`
	// Modes are the permission bits of files whose access matters (TLS
	// private keys).
	Modes map[string]uint32 `json:"modes,omitempty"`
	// Exists records whether a path exists where only that matters
	// (/sys/module: is a kvm module loaded).
	Exists map[string]bool `json:"exists,omitempty"`
}
