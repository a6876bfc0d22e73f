package hyperv

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestBuildCommandsEncodesTheCatalog(t *testing.T) {
	cmds, err := BuildCommands(Catalog, Methods)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) > 3 {
		t.Errorf("%d commands for %d queries; expected few", len(cmds), len(Catalog))
	}
	var all string
	for _, c := range cmds {
		if len(c) > maxCommandLen {
			t.Errorf("command of %d characters exceeds %d", len(c), maxCommandLen)
		}
		if !strings.HasPrefix(c, "powershell.exe -NoLogo -NoProfile -NonInteractive -EncodedCommand ") {
			t.Errorf("command %q", truncate(c, 80))
		}
		script, err := DecodeCommand(c)
		if err != nil {
			t.Fatal(err)
		}
		all += script
	}
	for i, q := range Catalog {
		line := "Q " + itoa(int64(i)) + " '" + q.Namespace + "' '" + q.Class + "' @('" + strings.Join(q.Properties, "','") + "')"
		if !strings.Contains(all, line) {
			t.Errorf("script lacks %q", line)
		}
	}
	if !strings.Contains(all, "M "+itoa(int64(len(Catalog)))+` 'root\cimv2' 'StdRegProv' 'GetDWORDValue' @{hDefKey=[uint32]2147483650;sSubKeyName='SOFTWARE\Microsoft\Windows NT\CurrentVersion';sValueName='UBR'} @('ReturnValue','uValue')`) {
		t.Errorf("UBR call missing:\n%s", all)
	}
	// Read-only: only Get-CimInstance and the registry method.
	for _, verb := range []string{"Set-", "Remove-", "New-", "Invoke-Expression", "Start-", "Stop-"} {
		if strings.Contains(all, verb) {
			t.Errorf("script contains %q", verb)
		}
	}
	if !strings.Contains(all, "ConvertTo-Json -Depth 4 -Compress") {
		t.Error("not ConvertTo-Json -Depth 4 -Compress")
	}
}

func TestEncodeCommandIsUTF16LEBase64(t *testing.T) {
	cmd := EncodeCommand("Get-Date # é")
	b64 := cmd[strings.LastIndex(cmd, " ")+1:]
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{'G', 0, 'e', 0, 't', 0}
	if string(raw[:6]) != string(want) || raw[len(raw)-2] != 0xe9 || raw[len(raw)-1] != 0 {
		t.Errorf("not UTF-16LE: % x", raw)
	}
	if s, _ := DecodeCommand(cmd); s != "Get-Date # é" {
		t.Errorf("round trip %q", s)
	}
}

func TestCommandsRefuseInjection(t *testing.T) {
	bad := []Query{
		{Namespace: NSVirtualization, Class: "Msvm_ComputerSystem'; Remove-Item C:\\ -Recurse; '", Properties: []string{"Name"}},
		{Namespace: `root\virtualization\v2'; whoami; '`, Class: "Msvm_ComputerSystem", Properties: []string{"Name"}},
		{Namespace: NSVirtualization, Class: "Win32_Process", Properties: []string{"Name"}},
		{Namespace: NSVirtualization, Class: "Msvm_ComputerSystem", Properties: []string{"Name,$(whoami)"}},
		{Namespace: NSVirtualization, Class: "Msvm_ComputerSystem"},
	}
	for _, q := range bad {
		if _, err := BuildCommands([]Query{q}, nil); err == nil {
			t.Errorf("accepted %+v", q)
		}
	}
	badM := []MethodCall{
		{Namespace: NSCIMv2, Class: "StdRegProv", Method: "SetDWORDValue", Args: map[string]any{}},
		{Namespace: NSCIMv2, Class: "Win32_Process", Method: "Create"},
		{Namespace: NSCIMv2, Class: "StdRegProv", Method: "GetDWORDValue", Args: map[string]any{"sValueName": "UBR'; whoami; '"}},
		{Namespace: NSCIMv2, Class: "StdRegProv", Method: "GetDWORDValue", Args: map[string]any{"hDefKey": 5}},
	}
	for _, m := range badM {
		if _, err := BuildCommands(nil, []MethodCall{m}); err == nil {
			t.Errorf("accepted %+v", m)
		}
	}
	if got := psQuote("it's ‘x’"); got != "'it''s ‘‘x’’'" {
		t.Errorf("psQuote = %s", got)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseOutput(t *testing.T) {
	out := "Preparing modules for first use.\r\n" +
		"##hvaudit 0 ok " + b64(`{"Name":"HV01","ElementName":"HV01"}`) + "\r\n" +
		"##hvaudit 1 ok " + b64(`[{"Name":"A"},{"Name":"B"}]`) + "\r\n" +
		"##hvaudit 2 ok " + b64(`[]`) + "\r\n" +
		"##hvaudit 3 error " + b64("Invalid namespace ") + "\r\n" +
		"##hvaudit 19 ok " + b64(`{"ReturnValue":0,"uValue":2700}`) + "\r\n" +
		"##hvaudit psversion " + b64("5.1.20348.2582") + "\r\n"
	got, ps, err := ParseOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	if ps != "5.1.20348.2582" || len(got) != 5 {
		t.Fatalf("ps %q results %d", ps, len(got))
	}
	qs := Catalog[:5]
	qr, mr, err := assemble(qs, Methods, map[int]rawResult{0: got[0], 1: got[1], 2: got[2], 3: got[3], 5: got[19]})
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case len(qr[0].Instances) != 1 || qr[0].Instances[0]["Name"] != "HV01": // single object
		t.Errorf("single object: %+v", qr[0])
	case len(qr[1].Instances) != 2: // array
		t.Errorf("array: %+v", qr[1])
	case len(qr[2].Instances) != 0 || qr[2].Error != "":
		t.Errorf("empty: %+v", qr[2])
	case qr[3].Error != "Invalid namespace":
		t.Errorf("error: %+v", qr[3])
	case !strings.Contains(qr[4].Error, "no result"):
		t.Errorf("missing: %+v", qr[4])
	case mr[0].Error != "" || mr[0].Result["uValue"] == nil:
		t.Errorf("method: %+v", mr[0])
	}
	for _, bad := range []string{"##hvaudit 0 ok ***", "##hvaudit x ok AAAA", "##hvaudit 0 " + b64("x")} {
		if _, _, err := ParseOutput(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	// A result that is not instances becomes that query's error.
	qr, _, _ = assemble(Catalog[:1], nil, map[int]rawResult{0: {ok: true, body: []byte(`[1]`)}})
	if !strings.Contains(qr[0].Error, "not an object") {
		t.Errorf("bad JSON: %+v", qr[0])
	}
}

func TestCLIXMLErrors(t *testing.T) {
	stderr := "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">" +
		"<Obj S=\"progress\" RefId=\"0\"><TN RefId=\"0\"><T>System.Management.Automation.PSCustomObject</T></TN><MS><I64 N=\"SourceId\">1</I64><PR N=\"Record\"><AV>Preparing modules for first use.</AV></PR></MS></Obj>" +
		"<S S=\"Error\">Get-CimInstance : Access denied _x000D__x000A_</S>" +
		"<S S=\"Error\">At line:1 char:1_x000D__x000A_</S></Objs>"
	if got := CLIXMLErrors(stderr); got != "Get-CimInstance : Access denied \r\nAt line:1 char:1" {
		t.Errorf("got %q", got)
	}
	if got := CLIXMLErrors("  plain failure \n"); got != "plain failure" {
		t.Errorf("plain %q", got)
	}
}
