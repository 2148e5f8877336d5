package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/bot/router"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/openclaw/change"
)

// ResetCooldown ends the cooldown/disable of the given profiles where
// OpenClaw really keeps it, after a backup; tells a running gateway; then
// re-reads the state and checks the key without spending tokens.
func (a *Actions) ResetCooldown(ctx context.Context, target string, profiles []string) (bot.Message, error) {
	t, done, err := a.begin(target)
	if err != nil {
		return bot.Message{}, err
	}
	defer done()
	snap, err := a.snapshot(ctx, t)
	if err != nil {
		return bot.Message{}, err
	}
	if err := a.asPreviewed(ctx, snap); err != nil {
		return bot.Message{}, err
	}
	plans, err := change.PlanResets(ctx, snap, "", profiles)
	if errors.Is(err, change.ErrNothingToReset) {
		return reply(bot.SevInfo, t.Name, "Nothing to reset on "+t.Name,
			[]bot.Span{bot.T(strings.Join(profiles, ", ") + " has no cooldown, disable or failure counters any more (it may have expired meanwhile).")}), nil
	}
	if err != nil {
		return bot.Message{}, err
	}
	// The planner reads the rows itself: they must be the bytes the
	// snapshot compared above, so that ApplyReset's own comparison (inside
	// the write transaction) guards exactly what the preview showed.
	for _, p := range plans {
		if !p.ReadFrom(snap) {
			return bot.Message{}, fmt.Errorf("%w: %s changed while the bot read it", router.ErrChangedSincePreview, p.Path)
		}
	}
	b := &backup{Target: t.Name, At: a.opts.Now().UTC()}
	for _, p := range plans {
		b.Plans = append(b.Plans, backupPlan{Plan: p, Before: p.Before})
	}
	path, err := a.writeBackup(b)
	if err != nil {
		return bot.Message{}, err
	}
	var changed []string
	for i, p := range plans {
		after, err := change.ApplyReset(ctx, p)
		if err != nil {
			msg := fmt.Sprintf("reset of %s in %s", strings.Join(p.Profiles, ", "), p.Path)
			if len(changed) > 0 {
				msg += fmt.Sprintf(" (after %s had been reset; undo restores it)", strings.Join(changed, ", "))
			}
			if errors.Is(err, change.ErrChanged) && len(changed) == 0 {
				return bot.Message{}, fmt.Errorf("%w: OpenClaw wrote to %s meanwhile", router.ErrChangedSincePreview, p.Path)
			}
			if errors.Is(err, change.ErrChanged) {
				return bot.Message{}, fmt.Errorf("%s: OpenClaw changed the state since the preview; nothing was written there — run the command again for a fresh preview", msg)
			}
			return bot.Message{}, fmt.Errorf("%s: %w", msg, err)
		}
		b.Plans[i].After = after
		changed = append(changed, p.Profiles...)
	}
	if _, err := a.rewriteBackup(path, b); err != nil {
		return bot.Message{}, err
	}
	router.NoteBackup(ctx, path)
	summary, _ := json.Marshal(map[string]any{"target": t.Name, "profiles": changed, "stores": storePaths(plans)})
	router.NoteAfter(ctx, summary)

	a.changed(ctx, t.Name)
	lines := [][]bot.Span{{bot.T("Cleared " + strings.Join(changed, ", ") + " in " + strings.Join(storePaths(plans), ", ") + ".")}}
	lines = append(lines, a.refreshLine(ctx, t, snap, false))
	lines = append(lines, a.verify(ctx, t, snap, changed)...)
	return reply(bot.SevInfo, t.Name, "Cooldown reset on "+t.Name, lines...), nil
}

func storePaths(plans []*change.ResetPlan) []string {
	var out []string
	for _, p := range plans {
		if !slices.Contains(out, p.Path) {
			out = append(out, p.Path)
		}
	}
	return out
}

func (a *Actions) rewriteBackup(path string, b *backup) (string, error) {
	data, err := json.Marshal(b)
	if err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// refreshLine tells a running gateway about the edit (it keeps the auth
// state in memory and ignores external edits until told, measured), with
// what works for its release (change.RefreshGateway), and says exactly
// what was done: which RPC, for which release, or that this release only
// rereads the state when it restarts. undo: the edit restored a backup.
// snap is the install as read before the change (its version, and
// OPENCLAW_STATE_DIR for the commands); nil when it could not be read.
func (a *Actions) refreshLine(ctx context.Context, t Target, snap *openclaw.Snapshot, undo bool) []bot.Span {
	version := ""
	if snap != nil {
		version = snap.Version
	}
	if t.CLI == nil {
		return manualRefreshLine(t, snap, version, undo)
	}
	r, err := change.RefreshGateway(ctx, t.CLI, version)
	rel := releaseName(r.Version)
	switch {
	case errors.Is(err, change.ErrNoGateway):
		return []bot.Span{bot.T("No gateway is running: fine, it reads the state when it starts.")}
	case err != nil:
		method := r.Method
		if method == "" {
			method = openclaw.RefreshOf(r.Version)
		}
		out := []bot.Span{bot.T("⚠ The gateway (" + rel + ") did not confirm the reload (" + err.Error() + "); until it does it may still skip the profile. ")}
		if cmd := refreshCommand(snap, method); cmd != "" {
			out = append(out, bot.T("Run "), bot.C(cmd), bot.T(" on the host, or restart the gateway"))
		} else {
			out = append(out, bot.T("Restart the gateway"))
		}
		return append(out, restartHint(t)...)
	case r.Outcome == change.GatewayReloaded:
		return []bot.Span{bot.T("Told the gateway with " + r.Method + " (" + rel + "): it reloaded its auth state.")}
	case r.Outcome == change.GatewayRestartNeeded:
		return restartNeededLine(t, rel, undo)
	case r.Outcome == change.GatewayReadsDisk:
		return []bot.Span{bot.T("This gateway (" + rel + ") reads the state from disk on every request: nothing to tell it.")}
	case r.Outcome == change.GatewayUnconfirmed:
		out := []bot.Span{bot.T("Told the gateway with " + r.Method + ", which it accepted (" + rel + "; it does not know " +
			strings.Join(r.Unknown, ", ") + "). OpenClaw 2026.8.x gateways accept that without dropping the old cooldown: if it still skips the profile, restart it")}
		return append(out, restartHint(t)...)
	}
	return []bot.Span{bot.T(fmt.Sprintf("The gateway (%s) answered %+v.", rel, r))}
}

// manualRefreshLine: no CLI to tell the gateway with; say what to run.
func manualRefreshLine(t Target, snap *openclaw.Snapshot, version string, undo bool) []bot.Span {
	rel := releaseName(version)
	switch m := openclaw.RefreshOf(version); m {
	case openclaw.RefreshNone:
		return []bot.Span{bot.T("A gateway of " + rel + " reads the state from disk on every request: nothing to tell it.")}
	case openclaw.RefreshRestart:
		return restartNeededLine(t, rel, undo)
	default:
		return []bot.Span{bot.T("A running gateway keeps its in-memory state until told: run "), bot.C(refreshCommand(snap, m)),
			bot.T(" on the host (" + rel + "; a gateway that is down reads the state when it starts).")}
	}
}

// restartNeededLine: a 2026.8.x gateway never rereads the state while it
// runs (measured on 2026.8.2: secrets.reload is accepted and changes
// nothing; models.authRefresh does not exist yet).
func restartNeededLine(t Target, rel string, undo bool) []bot.Span {
	what := "keeps the old cooldown in memory until it restarts"
	if undo {
		what = "keeps whatever it has in memory until it restarts (the restored state reaches it only then)"
	}
	out := []bot.Span{bot.T("This gateway (" + rel + ") " + what + ": no RPC makes it reread the state. Restart it")}
	return append(out, restartHint(t)...)
}

// restartHint ends a sentence asking for a restart: with the bot's own
// command when the target has a restart method.
func restartHint(t Target) []bot.Span {
	if t.Restarter != nil {
		return []bot.Span{bot.T(": "), bot.C("restart " + t.Name), bot.T(".")}
	}
	return []bot.Span{bot.T(" on the host (no restart method is configured for " + t.Name + ").")}
}

// refreshCommand is the manual form of a reload RPC ("" for none).
func refreshCommand(snap *openclaw.Snapshot, method string) string {
	switch method {
	case openclaw.RefreshAuth:
		return diagnostics.Command(snap, `gateway call models.authRefresh --params '{"operation":"update"}' --json`)
	case openclaw.RefreshSecrets:
		return diagnostics.Command(snap, `gateway call secrets.reload --params '{}' --json`)
	}
	return ""
}

func releaseName(version string) string {
	if version == "" {
		return "release unknown"
	}
	return "OpenClaw " + version
}

// verify re-reads the state and checks the keys without spending tokens.
// before is the state the reset cleared (to tell a billing disable).
func (a *Actions) verify(ctx context.Context, t Target, before *openclaw.Snapshot, profiles []string) [][]bot.Span {
	snap, err := a.snapshot(ctx, t)
	if err != nil {
		return [][]bot.Span{{bot.T("Could not re-read the state to verify: " + err.Error())}}
	}
	var out [][]bot.Span
	now := a.opts.Now()
	for _, id := range profiles {
		u, _ := snap.Usage(snap.DefaultAgent(), id)
		if w, ok := u.Active(now); ok {
			out = append(out, []bot.Span{bot.T(fmt.Sprintf("⚠ %s is in a %s window again (%s until %s): OpenClaw wrote it back.", id, w.Kind, w.Reason, w.Until.UTC().Format("15:04 MST")))})
			continue
		}
		var cred *openclaw.Credential
		for _, c := range snap.Profiles(snap.DefaultAgent()) {
			if c.ID == id {
				c := c
				cred = &c
			}
		}
		if cred == nil || a.opts.Checker == nil {
			out = append(out, []bot.Span{bot.T(id + ": cleared (key not checked).")})
			continue
		}
		base, err := diagnostics.ResolveBaseURL(t.BaseURLFlag, t.BaseURLTarget, installBase(snap), t.BaseURLDefault)
		if err != nil {
			out = append(out, []bot.Span{bot.T(id + ": cleared; key not checked: " + err.Error())})
			continue
		}
		a.opts.Checker.Forget(cred.Secret.Fingerprint())
		c := a.opts.Checker.Check(ctx, base, *cred)
		switch c.Status {
		case diagnostics.StatusAccepted:
			out = append(out, []bot.Span{bot.T(id + ": cleared, key accepted (zero-token check).")})
		case diagnostics.StatusRejected:
			out = append(out, []bot.Span{bot.T(id + ": cleared, but the key is still rejected (401): the cooldown will come back at the next request. Rotate it: "),
				bot.C(diagnostics.PasteKeyCommand(snap, id))})
		default:
			out = append(out, []bot.Span{bot.T(fmt.Sprintf("%s: cleared; key check %s (%s).", id, c.Status, c.Reason))})
		}
		if was, _ := before.Usage(before.DefaultAgent(), id); was.DisabledReason == "billing" || strings.Contains(string(mustJSON(was)), "billing") {
			out = append(out, []bot.Span{bot.T(id + " was disabled for billing: the bot cannot verify billing without spending tokens; the next real request tells.")})
		}
	}
	return out
}

func installBase(s *openclaw.Snapshot) string {
	if s.Config != nil {
		return s.Config.AnthropicBaseURL
	}
	return ""
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// asPreviewed compares the usage state the preview showed
// (router.ExpectedState) with snap's, with the one function both use
// (Snapshot.Windows), and returns router.ErrChangedSincePreview when they
// differ: a window that started, ended, moved or changed its reason, or a
// counter that moved.
func (a *Actions) asPreviewed(ctx context.Context, snap *openclaw.Snapshot) error {
	ids, digest, ok := router.ExpectedState(ctx)
	if !ok {
		return nil
	}
	if snap.Windows(a.opts.Now()).Of(ids).Digest() != digest {
		return fmt.Errorf("%w (%s)", router.ErrChangedSincePreview, strings.Join(ids, ", "))
	}
	return nil
}

// Undo restores what a reset changed, if nothing changed it since (nor
// since the undo's preview) and it is within the undo window. args: the
// audit id and the backup path.
func (a *Actions) Undo(ctx context.Context, target string, args []string) (bot.Message, error) {
	if len(args) < 2 || args[1] == "" {
		return bot.Message{}, errors.New("that audit entry has no backup to restore")
	}
	data, err := os.ReadFile(args[1])
	if err != nil {
		return bot.Message{}, fmt.Errorf("read backup: %w", err)
	}
	var b backup
	if err := json.Unmarshal(data, &b); err != nil {
		return bot.Message{}, fmt.Errorf("backup %s is damaged: %w", args[1], err)
	}
	if target == "" {
		target = b.Target
	}
	t, done, err := a.begin(target)
	if err != nil {
		return bot.Message{}, err
	}
	defer done()
	if age := a.opts.Now().Sub(b.At); age > a.opts.UndoWindow {
		return bot.Message{}, fmt.Errorf("the reset is %s old; undo works within %s", age.Round(time.Minute), a.opts.UndoWindow)
	}
	snap, err := a.snapshot(ctx, t) // nil: the commands below without the install's prefix
	if _, _, ok := router.ExpectedState(ctx); ok && err != nil {
		return bot.Message{}, fmt.Errorf("cannot compare the state with the preview: %w", err)
	}
	if err := a.asPreviewed(ctx, snap); err != nil {
		return bot.Message{}, err
	}
	// Every store must still hold what the reset wrote before any is
	// restored (RestoreBackup compares again inside its transaction).
	for _, p := range b.Plans {
		if p.After != nil && snap != nil && !snap.Holds(p.Plan.Path, p.After) {
			return bot.Message{}, fmt.Errorf("OpenClaw changed %s since the reset; nothing was restored", p.Plan.Path)
		}
	}
	var restored []string
	for i := len(b.Plans) - 1; i >= 0; i-- {
		p := b.Plans[i]
		if p.After == nil {
			continue // never applied
		}
		if err := change.RestoreBackup(ctx, p.Plan, p.Before, p.After); err != nil {
			if errors.Is(err, change.ErrChanged) {
				return bot.Message{}, fmt.Errorf("OpenClaw changed %s since the reset; nothing restored there (restored so far: %s)", p.Plan.Path, strings.Join(restored, ", "))
			}
			return bot.Message{}, err
		}
		restored = append(restored, p.Plan.Profiles...)
	}
	a.changed(ctx, t.Name)
	return reply(bot.SevInfo, t.Name, "Undo on "+t.Name, []bot.Span{bot.T("Restored the state of " + strings.Join(restored, ", ") + " as it was before the reset.")}, a.refreshLine(ctx, t, snap, true)), nil
}
