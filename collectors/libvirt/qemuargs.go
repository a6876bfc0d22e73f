package libvirt

import "strings"

// qemuKeptOptions are the QEMU options hvaudit stores from a command
// line; everything else (disk paths, secret objects with encrypted data,
// chardev paths) stays on the host.
var qemuKeptOptions = map[string]bool{
	"-name": true, "-uuid": true, "-machine": true, "-M": true, "-sandbox": true,
	"-vnc": true, "-spice": true, "-object": true, "-device": true, "-runas": true,
}

// qemuSecretOpt matches option keys whose values are secrets (an old
// QEMU's -spice password=…, any "secret" data).
func qemuSecretOpt(k string) bool {
	k = strings.ToLower(k)
	return k == "password" || k == "passwd" || k == "data" || strings.Contains(k, "secret") && !strings.HasSuffix(k, "-secret")
}

// filterQEMUArgs keeps the argv[0] and the options hvaudit reads, with
// the values of secret keys replaced. -object is kept only for TLS
// credentials and -device only for shared-memory devices.
func filterQEMUArgs(args []string) []string {
	if len(args) == 0 {
		return []string{}
	}
	out := []string{args[0]}
	for i := 1; i < len(args); i++ {
		opt := args[i]
		if !qemuKeptOptions[opt] || i+1 >= len(args) {
			continue
		}
		v := args[i+1]
		i++
		switch opt {
		case "-object":
			if !strings.HasPrefix(v, "tls-creds-x509,") && !strings.HasPrefix(v, "{\"qom-type\":\"tls-creds-x509\"") {
				continue
			}
		case "-device":
			if !strings.HasPrefix(v, "ivshmem") && !strings.Contains(v, "\"driver\":\"ivshmem") {
				continue
			}
		}
		out = append(out, opt, redactQEMUOpts(v))
	}
	return out
}

// redactQEMUOpts replaces the values of secret keys in a QEMU option
// string "a=1,password=x,b" (commas inside a value are doubled).
func redactQEMUOpts(v string) string {
	parts := splitQEMUOpts(v)
	changed := false
	for i, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		if ok && qemuSecretOpt(k) {
			parts[i] = k + "=" + redacted
			changed = true
		}
	}
	if !changed {
		return v
	}
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(p, ",", ",,")
	}
	return strings.Join(parts, ",")
}

// splitQEMUOpts splits a QEMU option string at single commas; ",,"
// stands for a comma inside a value.
func splitQEMUOpts(v string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == ',' {
			if i+1 < len(v) && v[i+1] == ',' {
				cur.WriteByte(',')
				i++
				continue
			}
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(v[i])
	}
	return append(out, cur.String())
}

// qemuOpts maps the keys of a QEMU option string; the first part, when
// it has no '=', is under "" (the -vnc display, the -machine type).
func qemuOpts(v string) map[string]string {
	out := map[string]string{}
	for i, p := range splitQEMUOpts(v) {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			if i == 0 {
				out[""] = p
			} else {
				out[p] = "on" // a bare flag
			}
			continue
		}
		if _, dup := out[k]; !dup {
			out[k] = val
		}
	}
	return out
}
