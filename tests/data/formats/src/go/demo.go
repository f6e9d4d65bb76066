// Package benchdemo is a tiny package whose benchmarks produce real
// `go test -bench` output for perflab's format tests.
package benchdemo

import (
	"sort"
	"strings"
)

// SortInts sorts a copy of xs.
func SortInts(xs []int) []int {
	out := append([]int(nil), xs...)
	sort.Ints(out)
	return out
}

// Join joins n copies of s.
func Join(s string, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = s
	}
	return strings.Join(parts, ",")
}
