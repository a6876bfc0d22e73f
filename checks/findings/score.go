package findings

import "math"

// tally accumulates one score.
type tally struct {
	counts Counts
	// passed and total are severity weights: total covers pass, fail and
	// error; waived findings leave it. The *All variants score waived
	// findings by their observed status (score_without_waivers).
	passed, total       int
	passedAll, totalAll int
}

func (t *tally) add(f *Finding) {
	if !t.counts.Add(f.Status) {
		return
	}
	w := f.Severity.Weight()
	switch f.Status {
	case StatusPass:
		t.passed += w
		t.total += w
		t.passedAll += w
		t.totalAll += w
	case StatusFail, StatusError:
		t.total += w
		t.totalAll += w
	case StatusWaived:
		// A waiver only ever covers fail or error, so unwaived it scores
		// nothing but its weight.
		t.totalAll += w
	}
}

// ratio is the 0–100 score rounded to two decimals, nil when nothing with
// weight was scored.
func ratio(passed, total int) *float64 {
	if total == 0 {
		return nil
	}
	s := math.Round(float64(passed)*10000/float64(total)) / 100
	return &s
}

func (t *tally) score() Score {
	return Score{Score: ratio(t.passed, t.total), ScoreWithoutWaivers: ratio(t.passedAll, t.totalAll), Counts: t.counts}
}

// Summarize scores findings overall, per target, per area, per severity and
// per threat (DESIGN.md §4). targetErrors names the targets that could not be audited:
// they make the run incomplete and appear in ByTarget without a score.
func Summarize(findings []Finding, targetErrors []string) Summary {
	var all tally
	byTarget, byArea, bySev, byThreat := map[string]*tally{}, map[string]*tally{}, map[string]*tally{}, map[string]*tally{}
	get := func(m map[string]*tally, k string) *tally {
		t, ok := m[k]
		if !ok {
			t = &tally{}
			m[k] = t
		}
		return t
	}
	complete := len(targetErrors) == 0
	for i := range findings {
		f := &findings[i]
		all.add(f)
		get(byTarget, f.Target).add(f)
		get(byArea, f.Area).add(f)
		get(bySev, string(f.Severity)).add(f)
		for _, th := range f.Threats {
			get(byThreat, th).add(f)
		}
		if f.Status == StatusError {
			complete = false
		}
	}
	for _, t := range targetErrors {
		get(byTarget, t)
	}
	for _, th := range Threats {
		get(byThreat, th)
	}
	conv := func(m map[string]*tally) map[string]Score {
		out := make(map[string]Score, len(m))
		for k, t := range m {
			out[k] = t.score()
		}
		return out
	}
	s := all.score()
	return Summary{
		Score: s.Score, ScoreWithoutWaivers: s.ScoreWithoutWaivers, Complete: complete, Counts: s.Counts,
		ByTarget: conv(byTarget), ByArea: conv(byArea), BySeverity: conv(bySev),
		ByThreat: conv(byThreat),
	}
}
