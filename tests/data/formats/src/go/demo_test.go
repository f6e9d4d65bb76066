package benchdemo

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

func BenchmarkJoin(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_ = Join("perflab", 16)
	}
}

// Sub-benchmarks with a named size, and throughput via SetBytes (MB/s).
func BenchmarkSort(b *testing.B) {
	for _, n := range []int{16, 256} {
		xs := make([]int, n)
		for i := range xs {
			xs[i] = (i * 7919) % n
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for i := 0; i < b.N; i++ {
				_ = SortInts(xs)
			}
		})
	}
}

// Nested sub-benchmarks and a custom metric via b.ReportMetric.
func BenchmarkCopy(b *testing.B) {
	src := bytes.Repeat([]byte("x"), 4096)
	b.Run("buf/4k", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		dst := make([]byte, len(src))
		start := time.Now()
		for i := 0; i < b.N; i++ {
			copy(dst, src)
		}
		b.ReportMetric(float64(len(src)), "bytes/copy")
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "copies/s")
	})
}
