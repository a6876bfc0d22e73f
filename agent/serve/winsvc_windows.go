//go:build windows

package serve

import (
	"context"
	"io"
	"strings"

	"github.com/rs/zerolog"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
)

// ServiceName is the name hvaudit registers under (configs/deploy/windows).
const ServiceName = "hvaudit"

// IsWindowsService tells whether the service control manager started us.
func IsWindowsService() bool {
	ok, err := svc.IsWindowsService()
	return err == nil && ok
}

// RunWindowsService runs serve under the service control manager: Stop
// and Shutdown end it like SIGTERM does elsewhere. Log lines go to the
// Application event log under the source "hvaudit" (the install script
// registers it), with the level mapped to the entry type.
func RunWindowsService(run func(ctx context.Context, logOut io.Writer) error) error {
	el, err := eventlog.Open(ServiceName)
	if err != nil {
		return err
	}
	defer el.Close()
	return svc.Run(ServiceName, &service{run: run, log: eventLogWriter{el}})
}

type service struct {
	run func(ctx context.Context, logOut io.Writer) error
	log io.Writer
}

func (s *service) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.run(ctx, s.log) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case err := <-done:
			status <- svc.Status{State: svc.StopPending}
			if err != nil {
				_, _ = s.log.Write([]byte(`{"level":"error","message":"` + strings.ReplaceAll(err.Error(), `"`, `'`) + `"}`))
				return true, 2
			}
			return false, 0
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending, WaitHint: 60000}
				cancel()
			}
		}
	}
}

// eventLogWriter writes each log line as one event-log entry.
type eventLogWriter struct{ el *eventlog.Log }

func (w eventLogWriter) Write(p []byte) (int, error) { return w.WriteLevel(zerolog.InfoLevel, p) }

func (w eventLogWriter) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	var err error
	switch {
	case l >= zerolog.ErrorLevel:
		err = w.el.Error(3, msg)
	case l == zerolog.WarnLevel:
		err = w.el.Warning(2, msg)
	default:
		err = w.el.Info(1, msg)
	}
	return len(p), err
}
