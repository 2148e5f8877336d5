package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
)

// One /metrics scrape with 500 targets × 4 profiles (one cooling down each):
// the state gauges are computed at scrape time, so this is their cost.
func BenchmarkScrape500Targets(b *testing.B) {
	m := New(BuildInfo{Version: "bench"})
	now := time.Now()
	var names []string
	for i := range 500 {
		name := fmt.Sprintf("t%03d", i)
		names = append(names, name)
		rep := diagnostics.Report{Verdict: "degraded", Findings: []diagnostics.Finding{{Code: "cooldown.active", Severity: diagnostics.Critical}}}
		for p := range 4 {
			ps := diagnostics.ProfileStatus{ID: fmt.Sprintf("anthropic:p%d", p), Health: "ok", Check: "ok"}
			if p == 0 {
				ps.Health, ps.Until = "cooldown", now.Add(time.Hour)
			}
			rep.Profiles = append(rep.Profiles, ps)
		}
		m.Evaluated(name, true, rep, time.Millisecond, nil)
	}
	m.SetTargets(names)
	m.SetSources(Sources{
		OutboxDepth: func(context.Context) (int, error) { return 0, nil },
		Firing:      func() map[[2]string]int { return map[[2]string]int{} },
	})
	h := m.Handler()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
		_, _ = io.Copy(io.Discard, rec.Body)
	}
}
