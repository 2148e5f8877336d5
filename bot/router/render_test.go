package router

import (
	"strings"
	"testing"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
)

// diagnose names a finding's file once: after the evidence, unless the
// evidence already says where (env.shadowed names its .env line itself).
func TestDiagnoseNamesTheFileOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		f        diagnostics.Finding
		loc      string
		wantLocs int
	}{
		{"evidence without the file", diagnostics.Finding{Code: "config.syntax", Severity: "critical",
			Evidence: "unexpected end of input", File: "/s/openclaw.json", Line: 4, Column: 1}, "/s/openclaw.json:4:1", 1},
		{"evidence naming the file", diagnostics.Finding{Code: "env.shadowed", Severity: "warning",
			Evidence: "ANTHROPIC_API_KEY from $STATE/.env (/s/.env:1).", File: "/s/.env", Line: 1}, "/s/.env:1", 1},
		{"no file", diagnostics.Finding{Code: "failover.none", Severity: "info", Evidence: "one credential"}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := diagnoseMessage([]targetReport{{name: "t", rep: diagnostics.Report{Findings: []diagnostics.Finding{tc.f}}}})
			if len(m.Items) != 1 {
				t.Fatalf("%d items", len(m.Items))
			}
			var b strings.Builder
			for _, sp := range m.Items[0].Details {
				b.WriteString(sp.Text)
			}
			text := b.String()
			if !strings.HasPrefix(text, tc.f.Evidence) {
				t.Errorf("details %q do not start with the evidence", text)
			}
			if tc.loc == "" {
				return
			}
			if n := strings.Count(text, tc.loc); n != tc.wantLocs {
				t.Errorf("details %q name %s %d times, want %d", text, tc.loc, n, tc.wantLocs)
			}
		})
	}
}
