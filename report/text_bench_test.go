package report

import (
	"strconv"
	"strings"
	"testing"
)

// BenchmarkWrapLongWord wraps one 200,000-character unbroken word (an error
// message with a long blob in it), which took 30 s when every piece
// re-converted the rest of the word: the time must grow with the length, not
// its square. Compare -bench with the 2,000,000 case: about ten times
// slower, not a hundred.
func BenchmarkWrapLongWord(b *testing.B) {
	for _, n := range []int{200_000, 2_000_000} {
		word := strings.Repeat("x", n)
		b.Run("chars="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				if lines := wrap(word, 80); len(lines) != (n+79)/80 {
					b.Fatalf("%d lines", len(lines))
				}
			}
		})
	}
}

// BenchmarkNeutralize measures the escaping of a long hostile name.
func BenchmarkNeutralize(b *testing.B) {
	s := strings.Repeat("vm\x1b[2J\u202e\u0085-", 20_000)
	for b.Loop() {
		_ = Neutralize(s, false)
	}
}
