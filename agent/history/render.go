package history

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteRunsJSON writes runs as a JSON array (`history list --format json`).
func WriteRunsJSON(w io.Writer, runs []Run) error {
	if runs == nil {
		runs = []Run{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(runs)
}

// WriteRunsTable lists runs for people, oldest first.
func WriteRunsTable(w io.Writer, runs []Run) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tTARGET\tSTARTED (UTC)\tDURATION\tSTATUS\tSCORE\tPASS\tFAIL\tERROR\tWAIVED\tNEW FAILURES\tAGENT")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1fs\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", shortID(r.RunID), r.Target,
			r.Started.UTC().Format("2006-01-02 15:04:05"), r.DurationSeconds, r.Status, fmtScore(r.Score),
			r.Counts.Pass, r.Counts.Fail, r.Counts.Error, r.Counts.Waived, r.NewFailures, r.Agent)
	}
	if len(runs) == 0 {
		fmt.Fprintln(tw, "(no runs)")
	}
	return tw.Flush()
}

// TrendPoint is one run in a target's trend.
type TrendPoint struct {
	RunID       string    `json:"run_id"`
	Started     time.Time `json:"started"`
	Status      string    `json:"status"`
	Score       *float64  `json:"score"`
	Delta       *float64  `json:"delta"` // against the previous scored run
	Fail        int       `json:"fail"`
	Error       int       `json:"error"`
	NewFailures int       `json:"new_failures"`
}

// TargetTrend is a target's score over its runs.
type TargetTrend struct {
	Target string       `json:"target"`
	First  *float64     `json:"first_score"`
	Last   *float64     `json:"last_score"`
	Change *float64     `json:"change"`
	Points []TrendPoint `json:"points"`
}

// Trend groups runs (oldest first) per target, with score deltas.
func Trend(runs []Run) []TargetTrend {
	var order []string
	by := map[string]*TargetTrend{}
	prev := map[string]*float64{}
	for _, r := range runs {
		t, ok := by[r.Target]
		if !ok {
			t = &TargetTrend{Target: r.Target, Points: []TrendPoint{}}
			by[r.Target] = t
			order = append(order, r.Target)
		}
		p := TrendPoint{RunID: r.RunID, Started: r.Started, Status: r.Status, Score: r.Score, Fail: r.Counts.Fail, Error: r.Counts.Error, NewFailures: r.NewFailures}
		if r.Score != nil {
			if last := prev[r.Target]; last != nil {
				d := round2(*r.Score - *last)
				p.Delta = &d
			}
			prev[r.Target] = r.Score
			if t.First == nil {
				t.First = r.Score
			}
			t.Last = r.Score
		}
		t.Points = append(t.Points, p)
	}
	out := []TargetTrend{}
	for _, name := range order {
		t := by[name]
		if t.First != nil && t.Last != nil {
			c := round2(*t.Last - *t.First)
			t.Change = &c
		}
		out = append(out, *t)
	}
	return out
}

// WriteTrendTable prints each target's trend: a sparkline, then one line
// per run.
func WriteTrendTable(w io.Writer, trends []TargetTrend) error {
	if len(trends) == 0 {
		_, err := fmt.Fprintln(w, "(no runs)")
		return err
	}
	for i, t := range trends {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s  %s  %s → %s (%s)\n", t.Target, sparkline(t.Points), fmtScore(t.First), fmtScore(t.Last), fmtDelta(t.Change))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  STARTED (UTC)\tRUN\tSCORE\tΔ\tFAIL\tERROR\tNEW FAILURES")
		for _, p := range t.Points {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%d\t%d\n", p.Started.UTC().Format("2006-01-02 15:04"), shortID(p.RunID),
				fmtScore(p.Score), fmtDelta(p.Delta), p.Fail, p.Error, p.NewFailures)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// sparkline draws scores 0-100 with eight block heights; a run without a
// score is a '·'.
func sparkline(points []TrendPoint) string {
	blocks := []rune("▁▂▃▄▅▆▇█")
	var b strings.Builder
	for _, p := range points {
		if p.Score == nil {
			b.WriteRune('·')
			continue
		}
		i := int(*p.Score / 100 * float64(len(blocks)-1))
		b.WriteRune(blocks[max(0, min(i, len(blocks)-1))])
	}
	return b.String()
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func fmtScore(s *float64) string {
	if s == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f", *s)
}

func fmtDelta(d *float64) string {
	if d == nil {
		return "—"
	}
	return fmt.Sprintf("%+.1f", *d)
}

func round2(f float64) float64 { return float64(int64(f*100+sign(f)*0.5)) / 100 }

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}
