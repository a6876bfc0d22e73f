package checks

// Counts tallies findings by status.
type Counts struct {
	Pass          int `json:"pass"`
	Fail          int `json:"fail"`
	Error         int `json:"error"`
	NotApplicable int `json:"not_applicable"`
	Waived        int `json:"waived"`
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
