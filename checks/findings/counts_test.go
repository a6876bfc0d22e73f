package findings

import "testing"

// TestCounts: every status of the contract lands in its own field, and a
// status outside it counts nowhere and says so (the OSCAL writer then counts
// it as an error, the score leaves it out).
func TestCounts(t *testing.T) {
	fs := []Finding{
		{Status: StatusPass}, {Status: StatusPass}, {Status: StatusPass},
		{Status: StatusFail}, {Status: StatusFail},
		{Status: StatusError},
		{Status: StatusNotApplicable}, {Status: StatusNotApplicable}, {Status: StatusNotApplicable}, {Status: StatusNotApplicable},
		{Status: StatusWaived}, {Status: StatusWaived}, {Status: StatusWaived}, {Status: StatusWaived}, {Status: StatusWaived},
		{Status: "skipped"},
	}
	want := Counts{Pass: 3, Fail: 2, Error: 1, NotApplicable: 4, Waived: 5}
	if got := Count(fs); got != want {
		t.Errorf("Count = %+v, want %+v", got, want)
	}
	for st, n := range map[Status]int{StatusPass: 3, StatusFail: 2, StatusError: 1, StatusNotApplicable: 4, StatusWaived: 5, "skipped": 0} {
		if got := want.Of(st); got != n {
			t.Errorf("Of(%q) = %d, want %d", st, got, n)
		}
	}
	var c Counts
	if c.Add("skipped") || c != (Counts{}) {
		t.Errorf("Add of an unknown status counted: %+v", c)
	}
	if !c.Add(StatusWaived) || c != (Counts{Waived: 1}) {
		t.Errorf("Add(waived) = %+v", c)
	}
}
