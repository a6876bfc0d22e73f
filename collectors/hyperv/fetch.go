package hyperv

import (
	"context"
	"fmt"

	"github.com/hvaudit/hvaudit/collectors"
)

// openSource picks the source for a URI.
func openSource(_ context.Context, u uriInfo, t collectors.Target) (Source, error) {
	if u.Local {
		return openLocal()
	}
	return NewWinRMSource(WinRMConfig{
		Host: u.Host, Port: u.Port, User: u.User, Password: t.Password, Auth: u.Auth,
		Realm: u.Realm, Krb5Conf: u.Krb5Conf, CCache: u.CCache, SPN: u.SPN, TLS: t.TLS, Timeout: t.Timeout,
	})
}

// Fetch reads the host: every Catalog query and the UBR, read-only. A
// query that fails is recorded with its error (Normalize turns it into
// gaps); the target fails only when the host answers nothing at all.
func (c *Collector) Fetch(ctx context.Context, t collectors.Target) (snap *collectors.Snapshot, err error) {
	u, err := parseURI(t.URI)
	if err != nil {
		return nil, err
	}
	src, err := c.open(ctx, u, t)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			snap, err = nil, fmt.Errorf("hyperv collector crashed: %v", r)
		}
		_ = src.Close()
	}()
	d, err := fetchData(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("hyperv %s: %w", shownURI(u), err)
	}
	d.Host = u.Host
	if u.Local {
		d.Host = "localhost"
	}
	shown := collectors.SnapshotTarget{Name: t.Name, URI: shownURI(u), Transport: transport(u, t.TLS)}
	return collectors.NewSnapshot(Platform, shown, d, src.Calls(), nil)
}

// sourceName says what a Source is, for Data.Source.
func sourceName(src Source) string {
	switch s := src.(type) {
	case *WinRMSource:
		return "winrm"
	case *ReplaySource:
		return "replay"
	case interface{ Name() string }:
		return s.Name()
	}
	return "unknown"
}

// fetchData runs every Catalog query and method call through a source.
// It fails when the host answered none of them (bad credentials, an
// unreachable host, a missing Hyper-V role is a recorded error instead).
func fetchData(ctx context.Context, src Source) (*Data, error) {
	d := &Data{Source: sourceName(src)}
	if b, ok := src.(Batcher); ok {
		qr, mr, err := b.QueryBatch(ctx, Catalog, Methods)
		if err != nil {
			return nil, err
		}
		d.Queries, d.Methods = qr, mr
		if w, ok := src.(*WinRMSource); ok {
			d.PSVersion = w.psVersion()
		}
	} else {
		for _, q := range Catalog {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			r := QueryResult{Namespace: q.Namespace, Class: q.Class, Instances: Instances{}}
			if err := q.Validate(); err != nil {
				return nil, err
			}
			list, err := src.Query(ctx, q)
			if err != nil {
				r.Error = err.Error()
			} else {
				for i := range list {
					list[i] = keep(list[i], q.Properties)
				}
				r.Instances = list
			}
			d.Queries = append(d.Queries, r)
		}
		for _, m := range Methods {
			if err := m.Validate(); err != nil {
				return nil, err
			}
			r := MethodResult{Namespace: m.Namespace, Class: m.Class, Method: m.Method}
			if res, err := src.Method(ctx, m); err != nil {
				r.Error = err.Error()
			} else {
				r.Result = keep(res, m.Outputs)
			}
			d.Methods = append(d.Methods, r)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	answered := false
	var first string
	for _, q := range d.Queries {
		if q.Error == "" {
			answered = true
			break
		}
		if first == "" {
			first = q.Class + ": " + q.Error
		}
	}
	if !answered {
		return nil, fmt.Errorf("the host answered no query (%s)", first)
	}
	return d, nil
}
