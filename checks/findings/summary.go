package findings

// Counts tallies findings by status.
type Counts struct {
	Pass          int `json:"pass"`
	Fail          int `json:"fail"`
	Error         int `json:"error"`
	NotApplicable int `json:"not_applicable"`
	Waived        int `json:"waived"`
}

// Add counts one finding of status s. It reports false and counts nothing
// for a status outside the contract, so each caller says what an unknown
// status means to it (never a pass).
func (c *Counts) Add(s Status) bool {
	n := c.of(s)
	if n == nil {
		return false
	}
	*n++
	return true
}

// Of is the count of status s, 0 for a status outside the contract.
func (c Counts) Of(s Status) int {
	if n := c.of(s); n != nil {
		return *n
	}
	return 0
}

func (c *Counts) of(s Status) *int {
	switch s {
	case StatusPass:
		return &c.Pass
	case StatusFail:
		return &c.Fail
	case StatusError:
		return &c.Error
	case StatusNotApplicable:
		return &c.NotApplicable
	case StatusWaived:
		return &c.Waived
	}
	return nil
}

// Count tallies findings by status; a status outside the contract is left
// out.
func Count(fs []Finding) Counts {
	var c Counts
	for i := range fs {
		c.Add(fs[i].Status)
	}
	return c
}

// Score is a score with the counts behind it. Score and ScoreWithoutWaivers
// are nil when nothing was scored.
type Score struct {
	Score               *float64 `json:"score"`
	ScoreWithoutWaivers *float64 `json:"score_without_waivers"`
	Counts              Counts   `json:"counts"`
}

// Summary scores a run overall, per target, per area and per severity.
type Summary struct {
	Score               *float64 `json:"score"`
	ScoreWithoutWaivers *float64 `json:"score_without_waivers"`
	// Complete is false when a target or a finding ended in error.
	Complete   bool             `json:"complete"`
	Counts     Counts           `json:"counts"`
	ByTarget   map[string]Score `json:"by_target"`
	ByArea     map[string]Score `json:"by_area"`
	BySeverity map[string]Score `json:"by_severity"`
	// ByThreat lists every threat of the vocabulary (Threats), scored over
	// the findings of the checks that guard against it; a threat no
	// finding covers has a null score, so thin coverage shows.
	ByThreat map[string]Score `json:"by_threat"`
}
