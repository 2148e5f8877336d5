package diagnostics

import (
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
)

// BenchmarkDiagnose evaluates every rule on an install with several problems.
func BenchmarkDiagnose(b *testing.B) {
	d, err := sandbox.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Config("2026.9.6", nil, "anthropic:default", "anthropic:backup"); err != nil {
		b.Fatal(err)
	}
	if err := d.SharedStore(apiKeyStore("anthropic:default", "anthropic:backup"), usage("anthropic:default", map[string]any{
		"cooldownUntil": ms(time.Hour), "cooldownReason": "auth"})); err != nil {
		b.Fatal(err)
	}
	snap := readSnap(b, d.Path)
	b.ResetTimer()
	for b.Loop() {
		_ = Diagnose("bench", &Input{Snap: snap, Now: testNow})
	}
}
