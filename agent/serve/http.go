package serve

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hvaudit/hvaudit/agent/history"
)

// httpServer serves /metrics, /healthz, /api/runs, /api/runs/latest and the
// trend page at /.
func (d *Daemon) httpServer(set *Settings) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", d.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.metrics.Registry(), promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/runs", d.apiRuns)
	mux.HandleFunc("GET /api/runs/latest", d.apiLatest)
	mux.HandleFunc("GET /{$}", d.trendPage)
	return &http.Server{
		Handler:           guard(set.BearerToken, mux),
		TLSConfig:         set.TLS,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(discardTLSNoise{d}, "", 0),
	}
}

// discardTLSNoise sends the HTTP server's own complaints (handshake
// errors from scanners) to the debug log.
type discardTLSNoise struct{ d *Daemon }

func (w discardTLSNoise) Write(p []byte) (int, error) {
	w.d.log.Debug().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}

// guard sets security headers on every answer and, when a bearer token is
// configured, requires it everywhere but /healthz (a load balancer's probe
// needs no secret, and says nothing about the estate).
func guard(token string, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		if token != "" && r.URL.Path != "/healthz" {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
				h.Set("WWW-Authenticate", `Bearer realm="hvaudit"`)
				http.Error(w, "a bearer token is required (Authorization: Bearer …)", http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (d *Daemon) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	d.mu.Lock()
	loaded := d.loaded
	var next []map[string]string
	for _, sc := range d.cur.Schedules {
		next = append(next, map[string]string{"schedule": sc.Name, "next": sc.Spec.Next(time.Now()).UTC().Format(time.RFC3339)})
	}
	running := len(d.running)
	d.mu.Unlock()
	body := map[string]any{"status": "ok", "agent": d.agent, "started": d.started.UTC().Format(time.RFC3339),
		"config_loaded": loaded.UTC().Format(time.RFC3339), "runs_in_flight": running, "schedules": next}
	code := http.StatusOK
	if err := d.store.Ping(ctx); err != nil {
		body["status"], body["error"] = "history unavailable", err.Error()
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, body)
}

// apiRuns lists stored runs like `history list --format json`: ?target=,
// ?since= (RFC 3339 or a duration such as 24h), ?limit= (default 500).
func (d *Daemon) apiRuns(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	runs, err := d.store.List(r.Context(), q)
	if err != nil {
		d.log.Error().Err(err).Msg("/api/runs")
		http.Error(w, "history unavailable", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusOK, runs)
}

// apiLatest is each target's newest stored run.
func (d *Daemon) apiLatest(w http.ResponseWriter, r *http.Request) {
	targets, err := d.store.Targets(r.Context())
	if err != nil {
		http.Error(w, "history unavailable", http.StatusServiceUnavailable)
		return
	}
	out := []history.Run{}
	for _, t := range targets {
		if run, err := d.store.Latest(r.Context(), t, false); err == nil && run != nil {
			out = append(out, *run)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func parseQuery(r *http.Request) (history.Query, error) {
	v := r.URL.Query()
	q := history.Query{Target: v.Get("target"), Limit: 500}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 10000 {
			return q, fmt.Errorf("limit %q: use 1 to 10000", s)
		}
		q.Limit = n
	}
	if s := v.Get("since"); s != "" {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			q.Since = t
		} else if dur, err := time.ParseDuration(s); err == nil && dur > 0 {
			q.Since = time.Now().Add(-dur)
		} else {
			return q, fmt.Errorf("since %q: use RFC 3339 or a duration such as 24h", s)
		}
	}
	return q, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
