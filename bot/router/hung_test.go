package router

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
)

// slowDiag answers "hung*" targets only after a delay: a target whose read
// hangs until the read timeout (openclaw.DefaultReadTimeout) and then
// reports state.unreadable.
type slowDiag struct {
	*fakeDiag
	delay time.Duration
}

func (d slowDiag) Report(ctx context.Context, target string, probe bool) (diagnostics.Report, error) {
	if strings.HasPrefix(target, "hung") {
		time.Sleep(d.delay)
		return diagnostics.Report{Target: target, Verdict: "down", Findings: []diagnostics.Finding{{
			Code: diagnostics.CodeStateUnreadable, Severity: diagnostics.Critical, Subject: "/mnt/" + target,
			Title: "Part of OpenClaw's credential state could not be read", Evidence: "timed out reading /mnt/" + target + " after 5 s"}}}, nil
	}
	return d.fakeDiag.Report(ctx, target, probe)
}

// `status` over every target reads them concurrently: two targets that
// each take a read timeout cost one, the healthy one is not held up, and
// the reply keeps the config order.
func TestStatusReadsTargetsConcurrently(t *testing.T) {
	const delay = 600 * time.Millisecond
	e := newEnv(t)
	e.diag.targets = []string{"hung1", "prod", "hung2"}
	e.rt.diag = slowDiag{e.diag, delay}
	start := time.Now()
	rep := e.handle(console, "status")
	if took := time.Since(start); took >= 2*delay-100*time.Millisecond {
		t.Errorf("status took %s: the targets were read one after the other", took)
	}
	text := flat(rep)
	i1, ip, i2 := strings.Index(text, "hung1"), strings.Index(text, "prod"), strings.Index(text, "hung2")
	if i1 < 0 || ip < 0 || i2 < 0 || !(i1 < ip && ip < i2) {
		t.Errorf("want every target in config order:\n%s", text)
	}
}
