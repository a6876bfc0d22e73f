package agent

import (
	"github.com/rs/zerolog"

	"github.com/hvaudit/hvaudit/report"
)

// NoteChecklists logs, when the outputs include STIG checklists, what the
// checklists cannot show by themselves: an asset given a checklist written
// for another release of its product, or none because the catalog has no
// STIG for its release. It is said on the run's output (standard error)
// as well as in the checklists' comments, so it is not missed.
func NoteChecklists(run *report.Run, outs []Output, log zerolog.Logger) {
	wrote := false
	for _, o := range outs {
		wrote = wrote || o.Format == "cklb"
	}
	if !wrote {
		return
	}
	notes, err := report.ChecklistNotes(run)
	if err != nil {
		log.Warn().Err(err).Msg("checklist notes")
		return
	}
	for _, n := range notes {
		log.Warn().Msg("cklb: " + n)
	}
}
