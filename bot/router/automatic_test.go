package router

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// A reset the bot does itself (recovery.reset_after_rotation) goes through
// the very action a Confirm calls, with the state it was decided on as the
// guard, and is audited like a confirmed reset — the bot as the actor, the
// backup for undo, the reply's footer with the audit id and the undo
// command; `undo <id>` then previews restoring it. An action that did not
// start (busy, or the state moved) leaves no audit row. No secret anywhere.
func TestResetAutomatically(t *testing.T) {
	e := newEnv(t)
	rep := prodReport(t0)
	rep.Windows = openclaw.Windows{{Profile: "anthropic:default", Kind: "cooldown", Reason: "auth", Until: t0.Add(30 * time.Minute)},
		{Profile: "anthropic:backup"}}
	req := AutomaticReset{Actor: "openclaw-bot (reset_after_rotation)", Setting: "recovery.reset_after_rotation",
		Target: "prod", Profiles: []string{"anthropic:default"}, State: rep.Windows, Verdict: rep.Verdict,
		Why: []string{"anthropic:default: the cooldown (auth) predates its current key, which Anthropic accepts; a reset clears it"}}
	msg, err := e.rt.ResetAutomatically(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	AssertNoSecretLeak(t, bot.Reply{Message: msg})
	calls := e.act.Calls()
	if len(calls) != 1 || calls[0].Command != CmdCooldownReset || calls[0].Target != "prod" ||
		strings.Join(calls[0].Args, ",") != "anthropic:default" || strings.Join(calls[0].Expected, ",") != "anthropic:default" ||
		calls[0].Digest != rep.Windows.Of([]string{"anthropic:default"}).Digest() || calls[0].Digest == (openclaw.Windows{}).Digest() {
		t.Fatalf("action calls %+v", calls)
	}
	a := e.lastAudit()
	if a.Actor != req.Actor || a.Surface != SurfaceScheduler || a.Command != CmdCooldownReset || a.Outcome != OutcomeOK ||
		strings.Join(a.Args, ",") != "prod,anthropic:default" || a.BackupPath == "" || !strings.Contains(string(a.Before), "predates") {
		t.Fatalf("audit %+v", a)
	}
	text := flat(bot.Reply{Message: msg})
	for _, want := range []string{"Reset after a key rotation on prod: anthropic:default", "recovery.reset_after_rotation is on",
		"Done by openclaw-bot (reset_after_rotation)", fmt.Sprintf("audit #%d", a.ID), fmt.Sprintf("undo %d", a.ID)} {
		if !strings.Contains(text, want) {
			t.Errorf("reply lacks %q:\n%s", want, text)
		}
	}
	// Undo works on it like on a confirmed reset.
	undo := e.handle(slackIn(uResp, chAlert), fmt.Sprintf("undo %d", a.ID))
	if ok, _ := buttons(t, undo); ok == "" {
		t.Fatalf("undo of the automatic reset has no Confirm: %s", flat(undo))
	}

	// Not started: no audit row, the error back.
	n := e.auditCount()
	for _, fail := range []error{fmt.Errorf("%w (prod): try again when it has finished", ErrBusy), fmt.Errorf("%w (anthropic:default)", ErrChangedSincePreview)} {
		e.act.mu.Lock()
		e.act.fail = fail
		e.act.mu.Unlock()
		if _, err := e.rt.ResetAutomatically(context.Background(), req); !errors.Is(err, fail) && !errors.Is(err, errors.Unwrap(fail)) {
			t.Errorf("err %v, want %v", err, fail)
		}
		if e.auditCount() != n {
			t.Errorf("an automatic reset that did not start was audited")
		}
	}
	// Started and failed: audited as failed, said so.
	e.act.mu.Lock()
	e.act.fail = errors.New("write " + keyProd + " refused")
	e.act.mu.Unlock()
	msg, err = e.rt.ResetAutomatically(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	AssertNoSecretLeak(t, bot.Reply{Message: msg})
	if a := e.lastAudit(); a.Outcome != OutcomeFailed || a.Actor != req.Actor || strings.Contains(a.Error, keyProd) {
		t.Fatalf("failed reset audit %+v", a)
	}
	if !strings.Contains(msg.Title, "failed") || msg.Severity != bot.SevCritical {
		t.Errorf("failed reply %q %s", msg.Title, msg.Severity)
	}
}
