package esxi

import (
	"fmt"
	"strconv"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// VMware Tools is patched on its own cycle with its own advisories, so a
// VM's Tools version is a patch level of its own (product "vmware-tools").

const toolsVersionPath = "guest.toolsVersion"

// vmTools sets vm.Patch from guest.toolsVersion. "0" means Tools is not
// installed (no patch level, nothing to patch); an unread property leaves
// a gap.
func (n *normalizer) vmTools(p props, vm *inventory.VM) {
	s, ok := p.str(toolsVersionPath)
	if !ok {
		n.gap(inventory.KindVM, vm.ID, "vm.patch", p.why(toolsVersionPath))
		return
	}
	if pl, ok := ToolsPatchLevel(s); ok {
		vm.Patch = pl
	}
}

// ToolsPatchLevel decodes guest.toolsVersion, the Tools version packed as
// major<<10 | minor<<5 | patch ("12452" is 12.5.4). It reports false for
// "0" or "" (not installed) and anything that is not such a number.
func ToolsPatchLevel(v string) (*inventory.PatchLevel, bool) {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n == 0 {
		return nil, false
	}
	major, minor, patch := n>>10, (n>>5)&0x1f, n&0x1f
	ver := fmt.Sprintf("%d.%d.%d", major, minor, patch)
	return &inventory.PatchLevel{
		Product: "vmware-tools", ReleaseLine: strconv.FormatUint(major, 10), Version: ver, Build: ver,
		FullName: fmt.Sprintf("VMware Tools %s (guest.toolsVersion %s)", ver, v), Scheme: inventory.SchemeUpstream,
	}, true
}
