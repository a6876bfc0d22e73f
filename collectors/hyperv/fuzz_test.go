package hyperv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors"
)

// FuzzNormalizeData feeds arbitrary Data JSON to the mapper: it must never
// panic, must return an inventory or an error, and every gap must give a
// reason. Seeds are the fixtures' data and malformed shapes, and the
// corpus in testdata/fuzz/FuzzNormalizeData (zero dates, /0 migration
// networks, snapshot kinds, unreadable classes, a missing host row).
func FuzzNormalizeData(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/snapshot.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		// Small seeds keep the fuzzer fast (it minimises every input that
		// finds new coverage): at most two instances per query, compact.
		s, err := collectors.DecodeSnapshot(b)
		if err != nil {
			continue
		}
		var d Data
		if json.Unmarshal(s.Data, &d) != nil {
			continue
		}
		for i := range d.Queries {
			if len(d.Queries[i].Instances) > 2 {
				d.Queries[i].Instances = d.Queries[i].Instances[:2]
			}
		}
		if seed, err := json.Marshal(d); err == nil {
			f.Add(seed)
		}
	}
	f.Add([]byte(`{"queries":[{"class":"Msvm_ComputerSystem","instances":{"Name":"6A1F0B2C-3D4E-4F50-8A61-7B8C9D0E1F01","EnabledState":"Sideways","TimeOfLastStateChange":"/Date(-99999999999999)/"}}]}`))
	f.Add([]byte(`{"queries":[{"class":"Msvm_ComputerSystem","instances":[{"Name":"6A1F0B2C-3D4E-4F50-8A61-7B8C9D0E1F01"}]},{"class":"Msvm_EthernetPortAllocationSettingData","instances":[{"InstanceID":"Microsoft:6A1F0B2C-3D4E-4F50-8A61-7B8C9D0E1F01\\x","HostResource":"Msvm_VirtualEthernetSwitch.Name=\"\\\""}]}]}`))
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var d Data
		if json.Unmarshal(raw, &d) != nil {
			return
		}
		inv, err := normalizeData(&d, collectors.SnapshotTarget{Name: "fuzz"}, at, nil)
		if err != nil {
			return
		}
		if len(inv.Hosts) != 1 || inv.Hosts[0].ID == "" {
			t.Fatalf("hosts %+v", inv.Hosts)
		}
		for _, g := range inv.Gaps {
			if g.Reason == "" || g.Object == "" || g.Field == "" {
				t.Fatalf("incomplete gap %+v", g)
			}
		}
		for _, vm := range inv.VMs {
			if vm.ID == "" || vm.HyperV == nil || (vm.OldestSnapshotDays != nil && *vm.OldestSnapshotDays < 0) {
				t.Fatalf("vm %+v", vm)
			}
		}
		if _, err := json.Marshal(inv); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzParseInstances feeds arbitrary ConvertTo-Json output to the instance
// parser: it must not panic, and what it accepts is a list of objects that
// survives a round trip. Seeds: testdata/fuzz/FuzzParseInstances (shapes
// Windows PowerShell 5.1 and 7 write: one object, arrays, null, a BOM,
// "\/Date(ms)\/", "\u0026", wrappers, truncation).
func FuzzParseInstances(f *testing.F) {
	f.Add([]byte(`[{"Name":"HV01","EnabledState":2}]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		list, err := ParseInstances(raw)
		if err != nil {
			return
		}
		for i, in := range list {
			if in == nil {
				t.Fatalf("instance %d is nil", i)
			}
		}
		b, err := json.Marshal(list)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseInstances(b)
		if err != nil || len(again) != len(list) {
			t.Fatalf("round trip: %d instances, then %d (%v)", len(list), len(again), err)
		}
	})
}

// FuzzParseOutput feeds arbitrary standard output to the batch framing
// parser: no panic, and every accepted result carries a non-negative index.
// Seeds: testdata/fuzz/FuzzParseOutput.
func FuzzParseOutput(f *testing.F) {
	f.Add("##hvaudit 0 ok W10=\r\n##hvaudit psversion NS4x\r\n")
	f.Fuzz(func(t *testing.T, stdout string) {
		got, _, err := ParseOutput(stdout)
		if err != nil {
			return
		}
		for i := range got {
			if i < 0 {
				t.Fatalf("negative index %d", i)
			}
		}
	})
}
