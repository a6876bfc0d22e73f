// Package all links every collector into the binary. Each blank import
// registers its collector's URI schemes in the collectors registry.
package all

import (
	_ "github.com/hvaudit/hvaudit/collectors/esxi"    // vsphere://, vcenter://, esxi://
	_ "github.com/hvaudit/hvaudit/collectors/hyperv"  // hyperv://
	_ "github.com/hvaudit/hvaudit/collectors/libvirt" // qemu://, qemu+ssh://, qemu+tls://, test://
)
