package hyperv

import (
	"fmt"
	"strconv"
)

// Properties older Windows Server releases lack. Microsoft's class pages
// (learn.microsoft.com/windows/win32/hyperv_v2) note when each was added,
// in Windows 10 terms; a property missing from an instance of a host
// older than that is explained as such, not as an unreadable value. The
// finding stays error (unknown), never pass.
var propertySince = map[string]struct {
	build int
	added string
}{
	// "Added in Windows 10, version 1709."
	"Msvm_VirtualSystemSettingData.AutomaticSnapshotsEnabled": {16299, "Windows 10 version 1709"},
	"Msvm_VirtualSystemSettingData.IsAutomaticSnapshot":       {16299, "Windows 10 version 1709"},
	// "Added in Windows 10 and Windows Server 2016."
	"Msvm_VirtualSystemSettingData.SecureBootTemplateId": {14393, "Windows Server 2016"},
	// "This property was added in Windows 10 version 1703."
	"Msvm_ProcessorSettingData.HwThreadsPerCore": {15063, "Windows 10 version 1703"},
}

// serverReleases names the Windows Server builds hvaudit knows.
var serverReleases = []struct {
	build int
	name  string
}{
	{14393, "Windows Server 2016"},
	{17763, "Windows Server 2019"},
	{20348, "Windows Server 2022"},
	{26100, "Windows Server 2025"},
}

// releaseName is "Windows Server 2022" for 20348, else "build N".
func releaseName(build int) string {
	for _, r := range serverReleases {
		if r.build == build {
			return r.name
		}
	}
	return "build " + strconv.Itoa(build)
}

// firstServerWith names the first Windows Server release at or above build.
func firstServerWith(build int) string {
	for _, r := range serverReleases {
		if r.build >= build {
			return r.name
		}
	}
	return "a later release"
}

// hostBuild is the host's OS build number, 0 when unknown.
func (m *mapper) hostBuild() int {
	if m.hv == nil || m.hv.BuildNumber == nil {
		return 0
	}
	n, _ := strconv.Atoi(*m.hv.BuildNumber)
	return n
}

// missingReason explains a property missing from an instance (or null:
// Select-Object writes a property the object lacks as null): older than
// the release that added it, or simply absent.
func (m *mapper) missingReason(class, prop string, null bool) string {
	base := fmt.Sprintf("%s.%s is missing from the instance", class, prop)
	if null {
		base = fmt.Sprintf("%s.%s is null", class, prop)
	}
	since, known := propertySince[class+"."+prop]
	if !known {
		return base
	}
	b := m.hostBuild()
	switch {
	case b == 0:
		return fmt.Sprintf("%s (it was added in %s, first in %s; the host's build is unknown)", base, since.added, firstServerWith(since.build))
	case b < since.build:
		return fmt.Sprintf("%s.%s does not exist on %s: it was added in %s (first in %s)", class, prop, releaseName(b), since.added, firstServerWith(since.build))
	}
	return base
}
