package scheduler

import (
	"slices"
	"testing"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
)

// The codes serve reports itself (gateway health, OpenClaw's log) are
// exactly the code table's rows without a rule, with the severity serve
// gives them; every alert button of the table has an encoding.
func TestServeCodes(t *testing.T) {
	// instance.silent: package fleet (which imports this one).
	want := []string{diagnostics.CodeGatewayDown, diagnostics.CodeInstanceSilent}
	for _, p := range logPatterns {
		if !slices.Contains(want, p.code) {
			want = append(want, p.code)
		}
	}
	var got []string
	for _, s := range diagnostics.Specs() {
		if s.Rule == nil {
			got = append(got, s.Code)
		}
		if _, ok := alertAction(s.Button, "anthropic:default"); !ok && s.Button != diagnostics.ButtonNone {
			t.Errorf("%s: button %d has no encoding in alertAction", s.Code, s.Button)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("rows without a rule %v, serve reports %v", got, want)
	}
	for _, code := range want {
		if !slices.Contains(diagnostics.Spec(code).Severities, diagnostics.Critical) {
			t.Errorf("%s: serve reports it as critical, the table says %v", code, diagnostics.Spec(code).Severities)
		}
	}
	for b := diagnostics.ButtonReset; b <= diagnostics.ButtonSilence; b++ {
		if _, ok := alertAction(b, "prod"); !ok {
			t.Errorf("button %d has no encoding", b)
		}
	}
}
