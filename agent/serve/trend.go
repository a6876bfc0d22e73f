package serve

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hvaudit/hvaudit/agent/drift"
	"github.com/hvaudit/hvaudit/agent/history"
	"github.com/hvaudit/hvaudit/checks/findings"
)

// The trend page: each target's score over time as inline SVG, and its
// open drift. One self-contained document: no external resource, inline
// style and script pinned by hash in the Content-Security-Policy, so the
// browser refuses anything else.

const trendWindow = 90 * 24 * time.Hour

const trendCSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f5f6f8;color:#1d232b}
header{background:#1d2b3a;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#b8c4d0;font-size:12px}
main{padding:16px 24px;display:grid;gap:16px}
section.target{background:#fff;border:1px solid #d9dee5;border-radius:6px;padding:14px 18px}
section.target h2{margin:0 0 6px;font-size:17px;display:flex;gap:12px;align-items:baseline}
.score{font-size:26px;font-weight:600}.score.bad{color:#b3261e}.score.mid{color:#a15c00}.score.good{color:#1b6e3a}
.status-error{color:#b3261e;font-weight:600}.meta{color:#5b6673;font-size:12px}
.counts span{margin-right:12px}
svg.chart{width:100%;max-width:760px;height:auto;display:block;margin:8px 0}
svg .grid{stroke:#e3e7ec}svg .axis{fill:#5b6673;font-size:10px}svg .line{fill:none;stroke:#2f6db5;stroke-width:2}
svg .pt{fill:#2f6db5}svg .pt-error{fill:#b3261e}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eceff3}
th{color:#5b6673;font-weight:600}.none{color:#5b6673}
.cause-estate-changed{color:#b3261e}.cause-baseline-changed,.cause-advisories-changed{color:#a15c00}
`

const trendJS = `
document.querySelectorAll("time[datetime]").forEach(function (t) {
  var d = new Date(t.getAttribute("datetime"));
  if (!isNaN(d.getTime())) { t.textContent = d.toLocaleString(); }
});
document.documentElement.setAttribute("data-ready", "1");
console.log("hvaudit-trend-ready");
`

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// trendCSP allows the page's own inline style and script and nothing else:
// no image, font, frame, connection or form target, not even its origin.
var trendCSP = "default-src 'none'; style-src " + cspHash(trendCSS) + "; script-src " + cspHash(trendJS) +
	"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type trendPage struct {
	Generated time.Time
	Agent     string
	Targets   []trendTarget
	CSS       template.CSS
	JS        template.JS
}

type trendTarget struct {
	Name       string
	Latest     history.Run
	ScoreText  string
	ScoreClass string
	Chart      chart
	Drift      []drift.Event
	Runs       int
}

type chart struct {
	Width, Height int
	Line          string // polyline points of the scored runs
	Points        []chartPoint
	Grid          []chartLine
	XLabels       []chartLabel
}

type chartPoint struct {
	X, Y  float64
	Class string // pt or pt-error
	Title string
}

type chartLine struct {
	X1, X2, Y float64
	Text      string
}

type chartLabel struct {
	X, Y   float64
	Anchor string
	Text   string
}

var trendTmpl = template.Must(template.New("trend").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>hvaudit — scheduled audits</title>
<style>{{.CSS}}</style></head>
<body><header><h1>hvaudit — scheduled audits</h1>
<p>Score per target over the last 90 days, and drift still open · agent {{.Agent}} · <time datetime="{{.Generated.Format "2006-01-02T15:04:05Z07:00"}}">{{.Generated.Format "2006-01-02 15:04:05 UTC"}}</time></p></header>
<main>
{{- if not .Targets}}<section class="target"><p class="none">No run stored yet: the first scheduled run will appear here.</p></section>{{end}}
{{- range .Targets}}
<section class="target" data-target="{{.Name}}">
<h2><span>{{.Name}}</span><span class="score {{.ScoreClass}}">{{.ScoreText}}</span>
{{- if eq .Latest.Status "error"}} <span class="status-error">target error</span>{{end}}</h2>
<p class="meta">last run <time datetime="{{.Latest.Finished.Format "2006-01-02T15:04:05Z07:00"}}">{{.Latest.Finished.Format "2006-01-02 15:04:05 UTC"}}</time>
 · {{printf "%.1f" .Latest.DurationSeconds}} s · {{.Runs}} runs in the chart{{if .Latest.Error}} · {{.Latest.Error}}{{end}}</p>
<p class="counts"><span>pass {{.Latest.Counts.Pass}}</span><span>fail {{.Latest.Counts.Fail}}</span><span>error {{.Latest.Counts.Error}}</span><span>waived {{.Latest.Counts.Waived}}</span><span>not applicable {{.Latest.Counts.NotApplicable}}</span></p>
<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {{.Chart.Width}} {{.Chart.Height}}" role="img" aria-label="score of {{.Name}} over time">
{{- range .Chart.Grid}}
<line class="grid" x1="{{.X1}}" x2="{{.X2}}" y1="{{.Y}}" y2="{{.Y}}"/><text class="axis" x="{{.X1}}" y="{{.Y}}" dx="-6" dy="3" text-anchor="end">{{.Text}}</text>
{{- end}}
{{- range .Chart.XLabels}}
<text class="axis" x="{{.X}}" y="{{.Y}}" text-anchor="{{.Anchor}}">{{.Text}}</text>
{{- end}}
{{- if .Chart.Line}}
<polyline class="line" points="{{.Chart.Line}}"/>
{{- end}}
{{- range .Chart.Points}}
<circle class="{{.Class}}" cx="{{.X}}" cy="{{.Y}}" r="3.5"><title>{{.Title}}</title></circle>
{{- end}}
</svg>
<h3>Open drift</h3>
{{- if .Drift}}
<table><thead><tr><th>check</th><th>object</th><th>severity</th><th>change</th><th>cause</th><th>since</th></tr></thead><tbody>
{{- range .Drift}}
<tr><td>{{.CheckID}} <span class="meta">{{.Title}}</span></td><td>{{.Object.Name}} <span class="meta">{{.Object.Kind}} {{.Object.ID}}</span></td><td>{{.Severity}}</td>
<td>{{.OldStatus}} → {{.NewStatus}}</td><td class="cause-{{.Cause}}">{{.Cause}}</td><td><time datetime="{{.At.Format "2006-01-02T15:04:05Z07:00"}}">{{.At.Format "2006-01-02 15:04 UTC"}}</time></td></tr>
{{- end}}
</tbody></table>
{{- else}}<p class="none">None: nothing that got worse since an earlier run is still failing.</p>{{end}}
</section>
{{- end}}
</main>
<script>{{.JS}}</script>
</body></html>
`))

// trendCache keeps each target's open drift per latest readable run, so
// a page view does not decode a large report every time.
type trendCache struct {
	mu       sync.Mutex
	byTarget map[string]cachedDrift
}

type cachedDrift struct {
	runID string
	open  []drift.Event
}

func (d *Daemon) trendPage(w http.ResponseWriter, r *http.Request) {
	page, err := d.buildTrend(r.Context())
	if err != nil {
		d.log.Error().Err(err).Msg("trend page")
		http.Error(w, "history unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", trendCSP)
	if err := trendTmpl.Execute(w, page); err != nil {
		d.log.Error().Err(err).Msg("trend page")
	}
}

func (d *Daemon) buildTrend(ctx context.Context) (*trendPage, error) {
	page := &trendPage{Generated: time.Now().UTC(), Agent: d.agent, CSS: template.CSS(trendCSS), JS: template.JS(trendJS)}
	targets, err := d.store.Targets(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range targets {
		runs, err := d.store.List(ctx, history.Query{Target: name, Since: time.Now().Add(-trendWindow), Limit: 500})
		if err != nil {
			return nil, err
		}
		if len(runs) == 0 {
			last, err := d.store.Latest(ctx, name, false)
			if err != nil || last == nil {
				continue
			}
			runs = []history.Run{*last}
		}
		latest := runs[len(runs)-1]
		tt := trendTarget{Name: name, Latest: latest, Runs: len(runs), Chart: scoreChart(runs), ScoreText: "—"}
		if latest.Score != nil {
			tt.ScoreText = fmt.Sprintf("%.1f", *latest.Score)
			tt.ScoreClass = map[bool]string{true: "good", false: "mid"}[*latest.Score >= 80]
			if *latest.Score < 50 {
				tt.ScoreClass = "bad"
			}
		}
		if tt.Drift, err = d.openDrift(ctx, name); err != nil {
			return nil, err
		}
		page.Targets = append(page.Targets, tt)
	}
	return page, nil
}

// openDrift is the target's drift that is still failing in its latest
// readable run: the newest event per check and object.
func (d *Daemon) openDrift(ctx context.Context, target string) ([]drift.Event, error) {
	last, err := d.store.Latest(ctx, target, true)
	if err != nil || last == nil {
		return nil, err
	}
	d.trend.mu.Lock()
	c, ok := d.trend.byTarget[target]
	d.trend.mu.Unlock()
	if ok && c.runID == last.RunID {
		return c.open, nil
	}
	rep, _, err := d.store.LatestReport(ctx, target, true)
	if err != nil || rep == nil {
		return nil, err
	}
	failing := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Status == findings.StatusFail || f.Status == findings.StatusError {
			failing[f.CheckID+"\x00"+f.Object.ID] = true
		}
	}
	events, err := d.store.Events(ctx, history.Query{Target: target})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var open []drift.Event
	for i := len(events) - 1; i >= 0; i-- { // newest first
		e := events[i]
		k := e.CheckID + "\x00" + e.Object.ID
		if seen[k] || !failing[k] {
			continue
		}
		seen[k] = true
		open = append(open, e)
	}
	sort.SliceStable(open, func(a, b int) bool {
		ra, rb := open[a].Severity.Rank(), open[b].Severity.Rank()
		if ra != rb {
			return ra > rb
		}
		return open[a].CheckID+open[a].Object.Name < open[b].CheckID+open[b].Object.Name
	})
	d.trend.mu.Lock()
	if d.trend.byTarget == nil {
		d.trend.byTarget = map[string]cachedDrift{}
	}
	d.trend.byTarget[target] = cachedDrift{runID: last.RunID, open: open}
	d.trend.mu.Unlock()
	return open, nil
}

// scoreChart lays runs out on a 0-100 score axis against time. A run
// without a score (the target could not be read) is a red mark on the
// axis, so outages show as gaps with a cause.
func scoreChart(runs []history.Run) chart {
	const w, h, left, right, top, bottom = 720, 200, 44, 16, 12, 26
	c := chart{Width: w, Height: h}
	plotW, plotH := float64(w-left-right), float64(h-top-bottom)
	for _, v := range []int{0, 25, 50, 75, 100} {
		c.Grid = append(c.Grid, chartLine{X1: left, X2: w - right, Y: top + plotH*(1-float64(v)/100), Text: fmt.Sprint(v)})
	}
	first, last := runs[0].Started, runs[len(runs)-1].Started
	span := last.Sub(first)
	x := func(t time.Time) float64 {
		if span <= 0 {
			return left + plotW/2
		}
		return round1(left + plotW*float64(t.Sub(first))/float64(span))
	}
	layout := "2006-01-02 15:04"
	if span < time.Hour {
		layout = "2006-01-02 15:04:05"
	}
	c.XLabels = []chartLabel{{X: left, Y: h - 8, Anchor: "start", Text: first.UTC().Format(layout) + " UTC"}}
	if span > 0 {
		c.XLabels = append(c.XLabels, chartLabel{X: w - right, Y: h - 8, Anchor: "end", Text: last.UTC().Format(layout) + " UTC"})
	}
	var line []string
	for _, r := range runs {
		px := x(r.Started)
		if r.Score == nil {
			c.Points = append(c.Points, chartPoint{X: px, Y: top + plotH, Class: "pt-error",
				Title: r.Started.Format("2006-01-02 15:04") + ": no score (" + firstNonEmpty(r.Error, r.Status) + ")"})
			continue
		}
		py := round1(top + plotH*(1-*r.Score/100))
		line = append(line, fmt.Sprintf("%g,%g", px, py))
		c.Points = append(c.Points, chartPoint{X: px, Y: py, Class: "pt",
			Title: fmt.Sprintf("%s: score %.1f, %d failing, %d errors", r.Started.Format("2006-01-02 15:04"), *r.Score, r.Counts.Fail, r.Counts.Error)})
	}
	if len(line) > 1 {
		c.Line = strings.Join(line, " ")
	}
	return c
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
