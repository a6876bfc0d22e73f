package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/agent/drift"
	"github.com/hvaudit/hvaudit/agent/history"
	"github.com/hvaudit/hvaudit/agent/metrics"
	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/report"
)

// Daemon is a running `hvaudit serve`.
type Daemon struct {
	path    string
	log     zerolog.Logger
	store   *history.Store
	metrics *metrics.Set
	agent   string
	started time.Time

	mu       sync.Mutex
	cur      *Settings
	loaded   time.Time
	cron     *cron.Cron
	running  map[string]bool // targets with a run claimed (waiting or running)
	sem      chan struct{}   // bounds runs across targets
	closing  bool
	stopping chan struct{} // closed when shutdown begins: no new run starts

	// runs tracks in-flight runs, jitter waits and webhook deliveries;
	// runCtx is theirs, cancelled only once the shutdown grace is over.
	runs       sync.WaitGroup
	runCtx     context.Context
	cancelRuns context.CancelFunc

	trend trendCache
}

// Run loads the config at path and serves until ctx ends (SIGTERM), then
// lets in-flight runs finish for the grace period, cancels the rest, and
// returns nil. A config or start-up problem returns an error before any
// run.
func Run(ctx context.Context, path string, log zerolog.Logger) error {
	set, err := Load(path)
	if err != nil {
		return err
	}
	for _, w := range set.Warnings {
		log.Warn().Msg(w)
	}
	store, err := history.Open(ctx, set.History, history.Options{})
	if err != nil {
		return &agent.ConfigError{Err: err}
	}
	defer store.Close()
	d := &Daemon{path: set.Config.Path, log: log, store: store, metrics: metrics.New(true), agent: AgentName(),
		started: time.Now(), running: map[string]bool{}, stopping: make(chan struct{})}
	d.runCtx, d.cancelRuns = context.WithCancel(context.Background())
	defer d.cancelRuns()
	d.install(set)
	removeLeftovers(set.Outputs, log)
	d.restoreMetrics(ctx)

	ln, err := net.Listen("tcp", set.Listen)
	if err != nil {
		return &agent.ConfigError{Err: fmt.Errorf("[serve] listen %s: %w", set.Listen, err)}
	}
	srv := d.httpServer(set)
	serveErr := make(chan error, 1)
	go func() {
		if set.TLS != nil {
			serveErr <- srv.ServeTLS(ln, "", "")
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()
	scheme := "http"
	if set.TLS != nil {
		scheme = "https"
	}
	log.Info().Str("event", "start").Str("listen", scheme+"://"+ln.Addr().String()).Str("history", store.Where()).
		Str("agent", d.agent).Int("targets", len(set.Targets)).Strs("schedules", d.describeSchedules()).Msg("serving")
	d.prune(ctx)

	reload := reloadSignals()
	pruneTick := time.NewTicker(6 * time.Hour)
	defer pruneTick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-reload:
			d.reload()
		case <-pruneTick.C:
			d.prune(ctx)
		case err := <-serveErr:
			if !errors.Is(err, http.ErrServerClosed) {
				d.log.Error().Err(err).Msg("HTTP server stopped; shutting down")
			}
			break loop
		}
	}
	d.shutdown(srv)
	return nil
}

// install makes a settings value current and (re)starts the scheduler.
func (d *Daemon) install(set *Settings) {
	c := cron.New(cron.WithParser(cronParser), cron.WithLogger(cron.DiscardLogger))
	for _, sc := range set.Schedules {
		sc := sc
		c.Schedule(sc.Spec, cron.FuncJob(func() { d.tick(sc, time.Now()) }))
	}
	d.mu.Lock()
	old := d.cron
	d.cur, d.loaded, d.cron = set, time.Now(), c
	if d.sem == nil || cap(d.sem) != set.Concurrency {
		d.sem = make(chan struct{}, set.Concurrency) // runs already holding the old one finish with it
	}
	d.mu.Unlock()
	if old != nil {
		old.Stop() // our jobs return at once: runs go on in their goroutines
	}
	c.Start()
}

func (d *Daemon) describeSchedules() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, sc := range d.cur.Schedules {
		out = append(out, fmt.Sprintf("%s (%s → %s, next %s)", sc.Name, sc.Cron, strings.Join(sc.Targets, ","),
			sc.Spec.Next(time.Now()).Format(time.RFC3339)))
	}
	return out
}

// tick starts one schedule's targets, each after its own random jitter.
func (d *Daemon) tick(sc Schedule, at time.Time) {
	tick := at.Truncate(time.Second)
	for _, name := range sc.Targets {
		if !d.track() {
			return
		}
		go func(name string) {
			defer d.runs.Done()
			if sc.Jitter > 0 {
				wait := time.NewTimer(rand.N(sc.Jitter))
				defer wait.Stop()
				select {
				case <-wait.C:
				case <-d.stopping:
					return
				}
			}
			d.runTarget(name, sc.Name, tick)
		}(name)
	}
}

// track counts one more piece of in-flight work, unless shutting down.
func (d *Daemon) track() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closing {
		return false
	}
	d.runs.Add(1)
	return true
}

// runTarget audits one target unless it is already being audited, here
// (the previous run is slow: this tick is skipped, and the log says so) or
// by another agent sharing the history.
func (d *Daemon) runTarget(name, schedule string, tick time.Time) {
	log := d.log.With().Str("target", name).Str("schedule", schedule).Logger()
	d.mu.Lock()
	set := d.cur
	t, ok := set.Targets[name]
	switch {
	case d.closing:
		d.mu.Unlock()
		return
	case !ok:
		d.mu.Unlock()
		log.Warn().Msg("skipped: the target is no longer in the config")
		return
	case d.running[name]:
		d.mu.Unlock()
		log.Warn().Str("event", "skip").Str("reason", "still_running").Msg("skipped: the previous run of this target is still running")
		d.metrics.Skipped(name, "still_running")
		return
	}
	d.running[name] = true
	sem := d.sem
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.running, name)
		d.mu.Unlock()
	}()

	select {
	case sem <- struct{}{}:
		defer func() { <-sem }()
	case <-d.stopping:
		return
	}
	release, ok, err := d.store.TryLock(d.runCtx, name)
	if err != nil {
		log.Error().Err(err).Msg("run not started: cannot lock the target in the history")
		d.metrics.RunDone(name, "failed")
		return
	}
	if !ok {
		log.Info().Str("event", "skip").Str("reason", "locked").Msg("skipped: another agent is auditing this target")
		d.metrics.Skipped(name, "locked")
		return
	}
	defer release()
	if last, err := d.store.Latest(d.runCtx, name, false); err == nil && last != nil && !last.Started.Before(tick) {
		log.Info().Str("event", "skip").Str("reason", "done").Str("by", last.Agent).Str("run_id", last.RunID).
			Msg("skipped: another agent already audited this target for this tick")
		d.metrics.Skipped(name, "done")
		return
	}
	d.audit(set, t, log)
}

// audit runs, writes, stores and reports one target's audit.
func (d *Daemon) audit(set *Settings, t collectors.Target, log zerolog.Logger) {
	timeout := set.RunTimeout
	if timeout == 0 {
		timeout = t.Timeout + time.Minute
	}
	ctx, cancel := context.WithTimeout(d.runCtx, timeout)
	defer cancel()
	run, err := set.Judge.Audit(ctx, agent.Request{Targets: []collectors.Target{t}, Concurrency: 1, Log: d.log})
	if d.runCtx.Err() != nil {
		log.Warn().Str("event", "cancel").Msg("run cancelled by shutdown: nothing written or stored")
		d.metrics.RunDone(t.Name, "cancelled")
		return
	}
	if err != nil {
		log.Error().Err(err).Msg("run failed")
		d.metrics.RunDone(t.Name, "failed")
		return
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		log.Warn().Dur("run_timeout", timeout).Msg("the run hit its timeout")
	}
	// The history is the record and report files are derived from it:
	// store first, so a crash in between leaves a stored run without its
	// file, never a file of a run the history does not know.
	rec := &Recorder{Store: d.store, Aliases: set.Judge.Baseline.AliasMap(), Metrics: d.metrics, Log: d.log, Agent: d.agent,
		Notify: func(p drift.Payload) { d.notify(set.Webhook, p) }}
	if _, err := rec.Record(ctx, run); err != nil {
		log.Error().Err(err).Msg("storing the run failed")
		d.metrics.RunDone(t.Name, "failed")
		return
	}
	makeOutputDirs(run, t.Name, set.Outputs, log)
	if _, err := agent.WriteRunOutputs(run, set.Outputs, io.Discard); err != nil {
		log.Error().Err(err).Msg("writing the run's reports failed; the run is stored")
	}
	result := "ok"
	if len(run.Targets) == 1 && run.Targets[0].Status == report.TargetError {
		result = "target_error"
	}
	d.metrics.RunDone(t.Name, result)
}

// notify POSTs drift in the background; shutdown waits for it like a run.
func (d *Daemon) notify(wh *drift.Webhook, p drift.Payload) {
	if wh == nil || !d.track() {
		return
	}
	go func() {
		defer d.runs.Done()
		if err := wh.Send(d.runCtx, p); err != nil {
			d.log.Error().Err(err).Str("target", p.Target).Str("run_id", p.RunID).Int("events", len(p.Events)).Msg("drift webhook failed")
			d.metrics.WebhookFailed(p.Target)
			return
		}
		d.log.Info().Str("target", p.Target).Str("run_id", p.RunID).Int("events", len(p.Events)).Msg("drift webhook delivered")
	}()
}

// reload swaps in the config file's current content, or keeps the running
// config when the new one is invalid.
func (d *Daemon) reload() {
	set, err := Load(d.path)
	if err != nil {
		d.log.Error().Err(err).Str("event", "reload").Msg("config reload failed: keeping the running config")
		return
	}
	d.mu.Lock()
	old := d.cur
	d.mu.Unlock()
	for _, w := range set.Warnings {
		d.log.Warn().Msg(w)
	}
	for what, changed := range map[string]bool{
		"[serve] listen":               set.Listen != old.Listen,
		"[serve] history":              set.History != old.History,
		"[serve] TLS and bearer token": set.BearerToken != old.BearerToken || (set.TLS == nil) != (old.TLS == nil),
		"log_level and log_format":     set.Config.LogLevel != old.Config.LogLevel || set.Config.LogFormat != old.Config.LogFormat,
	} {
		if changed {
			d.log.Warn().Str("event", "reload").Msgf("%s changed: it takes effect at the next start", what)
			if what == "[serve] history" {
				set.History = old.History
			}
		}
	}
	d.install(set)
	for name := range old.Targets {
		if _, ok := set.Targets[name]; !ok {
			d.metrics.Forget(name)
		}
	}
	d.log.Info().Str("event", "reload").Int("targets", len(set.Targets)).Strs("schedules", d.describeSchedules()).Msg("config reloaded")
}

// prune applies retention_days.
func (d *Daemon) prune(ctx context.Context) {
	d.mu.Lock()
	keep := d.cur.Retention
	d.mu.Unlock()
	if keep <= 0 {
		return
	}
	n, err := d.store.Prune(ctx, time.Now().Add(-keep))
	if err != nil {
		d.log.Error().Err(err).Msg("pruning the history failed")
		return
	}
	if n > 0 {
		d.log.Info().Int("runs", n).Dur("older_than", keep).Msg("pruned old runs")
	}
}

// restoreMetrics sets the gauges from each configured target's last stored
// run, so a restart does not blank the dashboards until the next tick.
func (d *Daemon) restoreMetrics(ctx context.Context) {
	d.mu.Lock()
	set := d.cur
	d.mu.Unlock()
	for name := range set.Targets {
		run, _, err := d.store.LatestReport(ctx, name, false)
		if err != nil {
			d.log.Warn().Err(err).Str("target", name).Msg("cannot restore metrics from the history")
			continue
		}
		if run != nil {
			d.metrics.Observe(run)
		}
		d.metrics.AddDrift(name, 0)
	}
}

// shutdown stops scheduling, gives in-flight runs the grace period, then
// cancels what is left (a cancelled run writes and stores nothing) and
// waits for it to unwind.
func (d *Daemon) shutdown(srv *http.Server) {
	d.mu.Lock()
	d.closing = true
	close(d.stopping)
	grace := d.cur.ShutdownGrace
	inFlight := len(d.running)
	c := d.cron
	d.mu.Unlock()
	c.Stop()
	d.log.Info().Str("event", "stop").Int("runs_in_flight", inFlight).Dur("grace", grace).Msg("shutting down")
	done := make(chan struct{})
	go func() { d.runs.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		d.log.Warn().Msg("grace period over: cancelling the runs still in flight")
		d.cancelRuns()
		<-done
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	d.log.Info().Str("event", "stop").Msg("stopped")
}

// removeLeftovers deletes the temporary files a killed process left while
// writing a report (report.WriteFileAtomic names them .NAME.tmp-*): the
// reports themselves are complete or absent, never half-written.
func removeLeftovers(outs []agent.Output, log zerolog.Logger) {
	for _, o := range outs {
		dir, base := filepath.Split(o.Path)
		if strings.ContainsAny(dir, "{}") {
			continue // a directory per run: nothing to scan
		}
		matches, _ := filepath.Glob(filepath.Join(dir, "."+agent.PlaceholderGlob(base)+".tmp-*"))
		for _, m := range matches {
			if err := os.Remove(m); err == nil {
				log.Warn().Str("file", m).Msg("removed a partial report left by an interrupted run")
			}
		}
	}
}

// makeOutputDirs creates the directories a run's reports go to (mode
// 0750): a daemon writing reports/{date}/… should not need a hand-made
// directory per day.
func makeOutputDirs(run *report.Run, target string, outs []agent.Output, log zerolog.Logger) {
	for _, o := range outs {
		dir := filepath.Dir(agent.ExpandPath(o.Path, run, target))
		if err := os.MkdirAll(dir, 0o750); err != nil {
			log.Error().Err(err).Str("dir", dir).Msg("cannot create the report directory")
		}
	}
}
