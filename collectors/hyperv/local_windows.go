//go:build windows

package hyperv

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	wmi "github.com/microsoft/wmi/pkg/wmiinstance"
)

// localSource reads the local host's WMI through COM (github.com/microsoft/wmi).
// COM objects belong to the thread that created them, so every call runs
// on one goroutine locked to its OS thread.
type localSource struct {
	reqs  chan func(*localState)
	done  chan struct{}
	calls int
}

type localState struct {
	mgr      *wmi.WmiSessionManager
	sessions map[string]*wmi.WmiSession
}

// openLocal starts the COM goroutine and connects the session manager.
func openLocal() (Source, error) {
	s := &localSource{reqs: make(chan func(*localState)), done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer close(s.done)
		st := &localState{sessions: map[string]*wmi.WmiSession{}}
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("WMI is not available: %v", r)
				}
			}()
			st.mgr = wmi.NewWmiSessionManager()
			return nil
		}()
		ready <- err
		if err != nil {
			return
		}
		defer func() {
			for _, sess := range st.sessions {
				sess.Close()
			}
			_ = st.mgr.Close()
		}()
		for f := range s.reqs {
			f(st)
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return s, nil
}

// Name is the Data.Source word.
func (s *localSource) Name() string { return "wmi" }

// run executes f on the COM thread, turning a panic into an error.
func (s *localSource) run(ctx context.Context, f func(*localState) error) error {
	errc := make(chan error, 1)
	job := func(st *localState) {
		defer func() {
			if r := recover(); r != nil {
				errc <- fmt.Errorf("WMI call failed: %v", r)
			}
		}()
		errc <- f(st)
	}
	select {
	case s.reqs <- job:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (st *localState) session(ns string) (*wmi.WmiSession, error) {
	if sess, ok := st.sessions[ns]; ok {
		return sess, nil
	}
	sess, err := st.mgr.GetLocalSession(ns)
	if err != nil {
		return nil, err
	}
	if _, err := sess.Connect(); err != nil {
		return nil, fmt.Errorf("connecting to namespace %s: %w", ns, err)
	}
	st.sessions[ns] = sess
	return sess, nil
}

// Query runs the WQL query and reads q's properties of each instance; a
// property the class does not have stays absent.
func (s *localSource) Query(ctx context.Context, q Query) (Instances, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	s.calls++
	var out Instances
	err := s.run(ctx, func(st *localState) error {
		sess, err := st.session(q.Namespace)
		if err != nil {
			return err
		}
		list, err := sess.QueryInstances(q.WQL())
		if err != nil {
			return err
		}
		defer wmi.CloseAllInstances(list)
		out = make(Instances, 0, len(list))
		for _, inst := range list {
			in := Instance{}
			for _, p := range q.Properties {
				v, err := inst.GetProperty(p)
				if err != nil {
					continue
				}
				in[p] = v
			}
			out = append(out, in)
		}
		return nil
	})
	return out, err
}

// Method calls a static method of a class (StdRegProv.GetDWORDValue).
func (s *localSource) Method(ctx context.Context, m MethodCall) (Instance, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	s.calls++
	var out Instance
	err := s.run(ctx, func(st *localState) error {
		sess, err := st.session(m.Namespace)
		if err != nil {
			return err
		}
		raw, err := sess.Session.CallMethod("Get", m.Class)
		if err != nil {
			return fmt.Errorf("getting class %s: %w", m.Class, err)
		}
		cls, err := wmi.CreateWmiInstance(raw, sess)
		if err != nil {
			return err
		}
		defer cls.Close()
		method, err := cls.GetWmiMethod(m.Method)
		if err != nil {
			return err
		}
		defer method.Close()
		var in wmi.WmiMethodParamCollection
		for k, v := range m.Args {
			in = append(in, wmi.NewWmiMethodParam(k, v))
		}
		var outp wmi.WmiMethodParamCollection
		for _, o := range m.Outputs {
			if o != "ReturnValue" {
				outp = append(outp, wmi.NewWmiMethodParam(o, nil))
			}
		}
		res, err := method.Execute(in, outp)
		if err != nil {
			return err
		}
		if res == nil {
			return errors.New("the call returned nothing")
		}
		out = Instance{"ReturnValue": res.ReturnValue}
		for k, p := range res.OutMethodParams {
			out[k] = p.Value
		}
		return nil
	})
	return out, err
}

// Calls counts queries and method calls.
func (s *localSource) Calls() int { return s.calls }

// Close ends the COM goroutine.
func (s *localSource) Close() error {
	close(s.reqs)
	<-s.done
	return nil
}
