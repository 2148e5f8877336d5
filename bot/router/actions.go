package router

import (
	"context"
	"sync"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
)

// Diagnoser gives the read-only commands their reports. The wiring
// provides it (over diagnostics.Inspector and the configured targets).
type Diagnoser interface {
	// Report diagnoses target (one of Targets(); "" when Targets() is
	// empty: the one default install). probe asks for the zero-token key
	// check; without it the last verdicts may be reused but nothing is sent.
	Report(ctx context.Context, target string, probe bool) (diagnostics.Report, error)
	// Targets are the known target names, in config order.
	Targets() []string
}

// Actions performs what the commands change. The router only calls a method
// after its preview was confirmed by the requester (DoctorLint, read-only,
// right away), with the target the preview named and these args:
//
//	ResetCooldown: the profile ids the preview listed (never "all")
//	Undo:          the audit id and the backup path that entry recorded
//	Restart:       none
//	DoctorFix:     none
//	ProbeSpend:    the profile ids the preview listed (may be empty: every profile)
//	DoctorLint:    none
//
// The returned message is the reply (the router adds who confirmed it and
// the audit id). An action that takes a backup reports it with NoteBackup
// so `undo` can find it; NoteAfter records the state after, for the audit.
// ResetCooldown and Undo compare the state they change with what the
// preview showed (ExpectedState) and, on any difference, change nothing and
// return ErrChangedSincePreview: the router then answers with a fresh
// preview. Restart, DoctorFix and ProbeSpend are only called when the
// verdict and the profiles' health are still those the preview showed.
type Actions interface {
	ResetCooldown(ctx context.Context, target string, args []string) (bot.Message, error)
	Undo(ctx context.Context, target string, args []string) (bot.Message, error)
	Restart(ctx context.Context, target string, args []string) (bot.Message, error)
	DoctorFix(ctx context.Context, target string, args []string) (bot.Message, error)
	ProbeSpend(ctx context.Context, target string, args []string) (bot.Message, error)
	DoctorLint(ctx context.Context, target string, args []string) (bot.Message, error)
}

// Explainer is implemented by Actions that cannot do some commands (yet).
// For those the router answers with the preview's facts and the
// explanation instead of Confirm/Cancel buttons, and never calls the action.
type Explainer interface {
	// Explain returns what to do by hand instead, and true, when command
	// (a canonical name such as "cooldown reset") is not available.
	Explain(command, target string, args []string) (bot.Message, bool)
}

// call runs command's action (its registry entry's).
func call(ctx context.Context, a Actions, command, target string, args []string) (bot.Message, error) {
	if s, ok := SpecOf(command); ok && s.action != nil {
		return s.action(a, ctx, target, args)
	}
	return bot.Message{}, errUnknownAction
}

type routerError string

func (e routerError) Error() string { return string(e) }

const errUnknownAction = routerError("no action for this command")

// ---- notes from actions to the audit row ----

type noteKey struct{}

type note struct {
	mu     sync.Mutex
	backup string
	after  []byte
}

func withNote(ctx context.Context) (context.Context, *note) {
	n := &note{}
	return context.WithValue(ctx, noteKey{}, n), n
}

// NoteBackup records, from inside an action, the backup it took: the
// audit row keeps it and `undo <audit id>` restores it.
func NoteBackup(ctx context.Context, path string) {
	if n, ok := ctx.Value(noteKey{}).(*note); ok {
		n.mu.Lock()
		n.backup = path
		n.mu.Unlock()
	}
}

// NoteAfter records, from inside an action, the state after it (JSON,
// secret-free) for the audit row.
func NoteAfter(ctx context.Context, after []byte) {
	if n, ok := ctx.Value(noteKey{}).(*note); ok {
		n.mu.Lock()
		n.after = append([]byte(nil), after...)
		n.mu.Unlock()
	}
}

func (n *note) get() (string, []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.backup, n.after
}

// ---- Unavailable ----

// Unavailable is the Actions of this release: every mutating command answers
// plainly "not available yet in this release" with the steps to do it by
// hand on the host. It changes nothing.
type Unavailable struct{}

var _ Actions = Unavailable{}
var _ Explainer = Unavailable{}

// Explain implements Explainer: nothing is available.
func (Unavailable) Explain(command, target string, args []string) (bot.Message, bool) {
	return unavailable(command, target, args), true
}

func (u Unavailable) ResetCooldown(_ context.Context, target string, args []string) (bot.Message, error) {
	return unavailable(CmdCooldownReset, target, args), nil
}
func (u Unavailable) Undo(_ context.Context, target string, args []string) (bot.Message, error) {
	return unavailable(CmdUndo, target, args), nil
}
func (u Unavailable) Restart(_ context.Context, target string, args []string) (bot.Message, error) {
	return unavailable(CmdRestart, target, args), nil
}
func (u Unavailable) DoctorFix(_ context.Context, target string, args []string) (bot.Message, error) {
	return unavailable(CmdDoctorFix, target, args), nil
}
func (u Unavailable) ProbeSpend(_ context.Context, target string, args []string) (bot.Message, error) {
	return unavailable(CmdProbeSpend, target, args), nil
}
func (u Unavailable) DoctorLint(_ context.Context, target string, args []string) (bot.Message, error) {
	return unavailable(CmdDoctor, target, args), nil
}

// unavailable is the "do it by hand" answer for command: its registry
// entry's manual steps. The commands are those measured on OpenClaw
// 2026.9.6 (OPENCLAW.md §7, §9, §10).
func unavailable(command, target string, args []string) bot.Message {
	on := ""
	if target != "" {
		on = " on target " + target
	}
	m := bot.Message{
		Kind:     bot.KindReply,
		Severity: bot.SevInfo,
		Target:   target,
		Title:    command + on + ": not available yet in this release",
		Text:     bot.Line(bot.T("not available yet in this release.")),
	}
	if s, ok := SpecOf(command); ok && s.manual != nil {
		m.Text = s.manual(args)
	}
	trimText(&m)
	return m
}

// onHost ends the manual steps of a change.
func onHost(spans ...bot.Span) []bot.Span {
	return append(spans, bot.T("Run these on the host of the install, as its user, with its OPENCLAW_STATE_DIR ("),
		bot.C("diagnose"), bot.T(" shows the exact commands for this install).\n"))
}

func manualReset(args []string) []bot.Span {
	ids := args
	if len(ids) == 0 {
		ids = []string{"<profile id>"}
	}
	out := bot.Line(bot.T("not available yet in this release: do it by hand instead (OpenClaw itself has no command that clears a cooldown):\n"),
		bot.T("1. Wait: OpenClaw ends it by itself at the time shown (see "), bot.C("cooldowns"), bot.T("); nothing else is needed.\n"),
		bot.T("2. Or end it now by removing the profile and storing the key again (pasting a key alone keeps the cooldown):\n"))
	for _, id := range ids {
		out = append(out, bot.T("   "), bot.C("openclaw models auth logout "+id+" --yes"), bot.T("\n   then "),
			bot.C(`printf '%s' "$NEW_ANTHROPIC_KEY" | openclaw models auth paste-api-key --provider anthropic --profile-id `+id),
			bot.T("\n"))
	}
	return onHost(append(out, bot.T("3. If the CLI says the gateway has not confirmed the change: "), bot.C("openclaw gateway restart"),
		bot.T(". A restart alone does not end a cooldown: OpenClaw 2026.9.6 persists it.\n"))...)
}

func manualUndo([]string) []bot.Span {
	return onHost(bot.T("not available yet in this release: do it by hand instead (no cooldown reset took a backup here). "),
		bot.T("To put a credential back by hand, store it again: "),
		bot.C(`printf '%s' "$ANTHROPIC_KEY" | openclaw models auth paste-api-key --provider anthropic --profile-id <profile id>`),
		bot.T(".\n"))
}

func manualRestart([]string) []bot.Span {
	return onHost(bot.T("not available yet in this release: do it by hand instead: "), bot.C("openclaw gateway restart"),
		bot.T(" (service installs); a foreground "), bot.C("openclaw gateway run"), bot.T(" must be stopped and started again.\n"))
}

func manualDoctorFix([]string) []bot.Span {
	return onHost(bot.T("not available yet in this release: do it by hand instead: "), bot.C("openclaw doctor --fix"),
		bot.T(" — it migrates legacy credential files and refreshes expired or expiring OAuth logins; it never clears cooldowns.\n"))
}

func manualProbeSpend([]string) []bot.Span {
	return onHost(bot.T("not available yet in this release: do it by hand instead (it spends tokens and records a 30 s cooldown on a 401): "),
		bot.C("openclaw models status --probe --probe-provider anthropic --json"),
		bot.T(" (with a gateway running: "),
		bot.C(`openclaw gateway call models.probe --params '{"provider":"anthropic","timeoutMs":15000}' --json`),
		bot.T("). The free key check is "), bot.C("check"), bot.T(".\n"))
}

func manualDoctor([]string) []bot.Span {
	return bot.Line(bot.T("not available yet in this release: run OpenClaw's read-only auth lint by hand instead: "),
		bot.C("openclaw doctor --lint --only core/doctor/auth-profiles"),
		bot.T(", or use "), bot.C("diagnose"), bot.T(" here (it covers the same problems).\n"))
}
