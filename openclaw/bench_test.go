package openclaw

import (
	"context"
	"testing"
)

// BenchmarkReadSnapshot reads the captured onboarded install: config, the
// SQLite store (opened read-only), env sources.
func BenchmarkReadSnapshot(b *testing.B) {
	loc := onboarded(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := ReadSnapshot(ctx, loc, ReadOptions{Env: EnvSources{NoProc: true}}); err != nil {
			b.Fatal(err)
		}
	}
}
