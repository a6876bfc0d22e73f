package findings

import "testing"

func fnd(target, area string, sev Severity, st, observed Status) Finding {
	return Finding{Target: target, Area: area, Severity: sev, Status: st, ObservedStatus: observed}
}

func val(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestSummarize(t *testing.T) {
	fs := []Finding{
		fnd("a", "patch", SeverityCritical, StatusPass, ""),          // 10 passed
		fnd("a", "patch", SeverityHigh, StatusFail, ""),              // 6
		fnd("a", "console", SeverityMedium, StatusError, ""),         // 3
		fnd("a", "console", SeverityLow, StatusWaived, StatusFail),   // 1, waived
		fnd("b", "console", SeverityHigh, StatusWaived, StatusError), // 6, waived
		fnd("b", "time", SeverityInfo, StatusFail, ""),               // 0
		fnd("b", "time", SeverityMedium, StatusNotApplicable, ""),    // not scored
	}
	s := Summarize(fs, nil)
	// 10 / (10+6+3) = 52.63; without waivers 10 / (10+6+3+1+6) = 38.46.
	if val(s.Score) != 52.63 || val(s.ScoreWithoutWaivers) != 38.46 {
		t.Errorf("score %v / %v", val(s.Score), val(s.ScoreWithoutWaivers))
	}
	if s.Complete {
		t.Error("complete with an error finding")
	}
	if s.Counts != (Counts{Pass: 1, Fail: 2, Error: 1, NotApplicable: 1, Waived: 2}) {
		t.Errorf("counts %+v", s.Counts)
	}
	// Target b: only waived and weightless findings → nil score, but a
	// score without waivers of 0.
	if b := s.ByTarget["b"]; b.Score != nil || val(b.ScoreWithoutWaivers) != 0.0 {
		t.Errorf("target b %v / %v", val(b.Score), val(b.ScoreWithoutWaivers))
	}
	if a := s.ByTarget["a"]; val(a.Score) != 52.63 || val(a.ScoreWithoutWaivers) != 50.0 {
		t.Errorf("target a %v / %v", val(a.Score), val(a.ScoreWithoutWaivers))
	}
	if p := s.ByArea["patch"]; val(p.Score) != 62.5 {
		t.Errorf("area patch %v", val(p.Score))
	}
	if c := s.ByArea["console"]; val(c.Score) != 0.0 || c.Counts.Waived != 2 {
		t.Errorf("area console %v %+v", val(c.Score), c.Counts)
	}
	if ti := s.ByArea["time"]; ti.Score != nil || ti.ScoreWithoutWaivers != nil {
		t.Error("info-only area scored")
	}
	if h := s.BySeverity["high"]; val(h.Score) != 0.0 || val(h.ScoreWithoutWaivers) != 0.0 || h.Counts.Fail != 1 || h.Counts.Waived != 1 {
		t.Errorf("severity high %+v", h)
	}
	if c := s.BySeverity["critical"]; val(c.Score) != 100.0 {
		t.Errorf("severity critical %v", val(c.Score))
	}
}

func TestSummarizeEmptyAndTargetErrors(t *testing.T) {
	s := Summarize(nil, nil)
	if s.Score != nil || s.ScoreWithoutWaivers != nil || !s.Complete {
		t.Errorf("empty summary %+v", s)
	}
	s = Summarize([]Finding{fnd("a", "patch", SeverityLow, StatusPass, "")}, []string{"down"})
	if s.Complete || val(s.Score) != 100.0 {
		t.Errorf("summary %+v", s)
	}
	if d, ok := s.ByTarget["down"]; !ok || d.Score != nil {
		t.Errorf("errored target missing from by_target: %+v", s.ByTarget)
	}
	// Waived errors do not make a run incomplete: they were accepted.
	s = Summarize([]Finding{fnd("a", "patch", SeverityLow, StatusWaived, StatusError)}, nil)
	if !s.Complete || s.Score != nil || val(s.ScoreWithoutWaivers) != 0.0 {
		t.Errorf("summary %+v", s)
	}
}
