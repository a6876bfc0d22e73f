package report

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestForKnownFormats(t *testing.T) {
	if got, want := Formats(), []string{"cklb", "csv", "html", "json", "junit", "oscal", "sarif", "table"}; !slices.Equal(got, want) {
		t.Fatalf("Formats() = %v, want %v", got, want)
	}
	for _, name := range Formats() {
		w, err := For(name, Options{})
		if err != nil {
			t.Fatalf("For(%q): %v", name, err)
		}
		if w.Format() != name {
			t.Errorf("For(%q).Format() = %q", name, w.Format())
		}
	}
	// --format is typed by people; case and stray spaces are not errors.
	if w, err := For(" JSON ", Options{}); err != nil || w.Format() != "json" {
		t.Errorf("For(\" JSON \") = %v, %v", w, err)
	}
}

func TestForUnknownFormatListsKnownOnes(t *testing.T) {
	_, err := For("xml", Options{})
	if !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("For(xml) error = %v, want ErrUnknownFormat", err)
	}
	for _, want := range []string{`"xml"`, "json", "table"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
