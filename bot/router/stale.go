package router

// stale.go — Confirm acts on what the preview showed, or not at all.
//
// A preview records what it showed: for cooldown reset and undo the usage
// state of the profiles (openclaw.Windows: window, stored fields, counters,
// every store's copy) and its digest; for restart, doctor fix and probe
// --spend the verdict and each profile's health. At Confirm, the action
// recomputes the digest from the very snapshot it plans from (ExpectedState)
// and returns ErrChangedSincePreview on a difference, changing nothing; for
// the target commands the router re-reads the report just before the
// action. Either way the answer is a fresh preview (new buttons) that says
// what changed.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// ErrChangedSincePreview is returned (wrapped) by an action that found the
// state different from what the preview showed and changed nothing. The
// router answers with a fresh preview saying what changed.
var ErrChangedSincePreview = errors.New("the state changed since the preview; nothing was changed")

// shownState is the usage state a preview showed of some profiles.
type shownState struct {
	Profiles []string         `json:"profiles"`
	Windows  openclaw.Windows `json:"windows"`
	Digest   string           `json:"digest"`
}

func shownOf(rep diagnostics.Report, ids []string) *shownState {
	ws := rep.Windows.Of(ids)
	return &shownState{Profiles: slices.Clone(ids), Windows: ws, Digest: ws.Digest()}
}

type expectKey struct{}

type expectation struct {
	profiles []string
	digest   string
}

// ExpectedState returns, inside a confirmed cooldown reset or undo, the
// profiles whose usage state the preview showed and its digest:
// openclaw.Windows.Digest of Snapshot.Windows(now).Of(profiles). The
// action compares it with the snapshot it changes from and, on a
// difference, changes nothing and returns ErrChangedSincePreview. ok is
// false when the preview recorded none.
func ExpectedState(ctx context.Context) (profiles []string, digest string, ok bool) {
	e, ok := ctx.Value(expectKey{}).(expectation)
	return slices.Clone(e.profiles), e.digest, ok
}

func withExpected(ctx context.Context, s *shownState) context.Context {
	if s == nil {
		return ctx
	}
	return context.WithValue(ctx, expectKey{}, expectation{profiles: slices.Clone(s.Profiles), digest: s.Digest})
}

// targetProfiles are the profiles a restart, doctor fix or probe --spend
// preview shows, and what its Confirm compares.
func targetProfiles(command string, rep diagnostics.Report) []profileState {
	var out []profileState
	for _, p := range rep.Profiles {
		if command == CmdProbeSpend && (p.Provider != "anthropic" || p.Source == "env" && p.Shadowed) {
			continue
		}
		out = append(out, stateOf(p))
	}
	return out
}

// targetChanges says how the verdict and the profiles' health (with reason
// and model) of rep differ from what the preview showed.
func targetChanges(command string, shown previewState, rep diagnostics.Report) [][]bot.Span {
	var out [][]bot.Span
	if shown.Verdict != rep.Verdict {
		out = append(out, bot.Line(bot.T("verdict "+strings.ToUpper(shown.Verdict)+" → "+strings.ToUpper(rep.Verdict))))
	}
	key := func(p profileState) string { return p.ID + "\x00" + p.Agent }
	health := func(p profileState) string {
		s := p.Health
		if p.Reason != "" {
			s += " (" + p.Reason
			if p.Model != "" {
				s += " on " + p.Model
			}
			s += ")"
		}
		return s
	}
	now := map[string]profileState{}
	var order []string
	for _, p := range targetProfiles(command, rep) {
		now[key(p)] = p
		order = append(order, key(p))
	}
	seen := map[string]bool{}
	for _, p := range shown.Profiles {
		k := key(p)
		seen[k] = true
		q, ok := now[k]
		switch {
		case !ok:
			out = append(out, bot.Line(bot.T(profileName(p.ID, p.Agent)+": "+health(p)+" → gone")))
		case health(p) != health(q):
			out = append(out, bot.Line(bot.T(profileName(p.ID, p.Agent)+": "+health(p)+" → "+health(q))))
		}
	}
	for _, k := range order {
		if !seen[k] {
			q := now[k]
			out = append(out, bot.Line(bot.T(profileName(q.ID, q.Agent)+": new, "+health(q))))
		}
	}
	return out
}

// windowChanges says how the windows now differ from those shown.
func windowChanges(shown, now openclaw.Windows) [][]bot.Span {
	key := func(w openclaw.ProfileWindow) string { return w.Profile + "\x00" + w.Agent }
	cur := map[string]openclaw.ProfileWindow{}
	for _, w := range now {
		cur[key(w)] = w
	}
	var out [][]bot.Span
	seen := map[string]bool{}
	for _, w := range shown {
		seen[key(w)] = true
		name := profileName(w.Profile, w.Agent)
		n, ok := cur[key(w)]
		switch {
		case !ok:
			out = append(out, append(append(bot.Line(bot.T(name+": ")), windowText(w)...), bot.T(" → no usage state any more")))
		case w.Kind != n.Kind || w.Reason != n.Reason || w.Model != n.Model || !w.Until.Equal(n.Until):
			line := append(bot.Line(bot.T(name+": ")), windowText(w)...)
			line = append(append(line, bot.T(" → ")), windowText(n)...)
			if n.Kind == "" {
				line = append(line, bot.T(" (it ended: nothing to reset)"))
			}
			out = append(out, line)
		case w.ErrorCount != n.ErrorCount || !maps.Equal(w.FailureCounts, n.FailureCounts):
			out = append(out, bot.Line(bot.T(fmt.Sprintf("%s: failure counters changed (errorCount %d → %d)", name, w.ErrorCount, n.ErrorCount))))
		case !sameWindow(w, n):
			out = append(out, bot.Line(bot.T(name+": its stored cooldown/disabled/blocked fields changed")))
		}
	}
	for _, n := range now {
		if !seen[key(n)] {
			out = append(out, append(bot.Line(bot.T(profileName(n.Profile, n.Agent)+": new usage state, ")), windowText(n)...))
		}
	}
	return out
}

func sameWindow(a, b openclaw.ProfileWindow) bool {
	return openclaw.Windows{a}.Digest() == openclaw.Windows{b}.Digest()
}

// windowText: "cooldown (auth) until <time>", "disabled (billing) until
// <time>", or "no cooldown or disable".
func windowText(w openclaw.ProfileWindow) []bot.Span {
	if w.Kind == "" {
		return bot.Line(bot.T("no cooldown or disable"))
	}
	s := w.Kind
	if w.Reason != "" || w.Model != "" {
		s += " (" + w.Reason
		if w.Model != "" {
			s += " on " + w.Model
		}
		s += ")"
	}
	return bot.Line(bot.T(s+" until "), bot.At(w.Until))
}

func profileName(id, agent string) string {
	if agent != "" {
		return id + " [" + agent + "]"
	}
	return id
}

// staleTarget re-reads the report of a restart, doctor fix or probe
// --spend just before its action and says how the verdict or the
// profiles' health differ from what its preview showed (nil: the same, or
// the preview recorded nothing to compare, or the install cannot be read
// now: the action reports that itself).
func (r *Router) staleTarget(ctx context.Context, p *store.Pending, shown previewState) [][]bot.Span {
	switch p.Command {
	case CmdRestart, CmdDoctorFix, CmdProbeSpend:
	default:
		return nil
	}
	if shown.Verdict == "" || r.diag == nil || len(p.Args) == 0 {
		return nil
	}
	rep, err := r.diag.Report(ctx, p.Args[0], false)
	if err != nil {
		return nil
	}
	return targetChanges(p.Command, shown, rep)
}

// repreview answers a Confirm whose state changed since its preview:
// nothing was done; here is a fresh preview (new buttons) and what changed.
// changes may be nil (the action saw a change the preview's lines do not
// show); cause is then said instead.
func (r *Router) repreview(ctx context.Context, who Who, p *store.Pending, shown previewState, changes [][]bot.Span, cause string) result {
	if changes == nil && shown.State != nil && r.diag != nil && len(p.Args) > 0 {
		if rep, err := r.diag.Report(ctx, p.Args[0], false); err == nil {
			changes = windowChanges(shown.State.Windows, rep.Windows.Of(shown.State.Profiles))
		}
	}
	var lines []bot.Span
	var summary []string
	for _, c := range changes {
		lines = append(lines, bot.T("\n• "))
		lines = append(lines, c...)
		var s strings.Builder
		for _, sp := range c {
			s.WriteString(sp.Text)
		}
		summary = append(summary, s.String())
	}
	if len(changes) == 0 {
		lines = append(lines, bot.T(" "+cause+"."))
		summary = append(summary, cause)
	}
	head := append(bot.Line(bot.B("⚠ Changed since the preview — nothing was done:")), lines...)
	head = append(head, bot.T("\n"))

	var res result
	cmd, err := Parse(shown.Command, r.targets())
	if err != nil || cmd.Name != p.Command {
		res = refusal("Changed since the preview: nothing was done")
		res.msg.Text = append(head, bot.T("Run the command again for a fresh preview."))
	} else {
		res = r.run(ctx, who, cmd)
		res.after = res.before // the state now, as the fresh preview read it
		res.msg.Title = "Changed since the preview, nothing done. " + res.msg.Title
		res.msg.Text = append(head, res.msg.Text...)
		if bot.SevWarning.Worse(res.msg.Severity) {
			res.msg.Severity = bot.SevWarning
		}
	}
	trimText(&res.msg)
	res.command, res.args, res.before = p.Command, p.Args, p.Preview
	res.outcome, res.err = OutcomeRefused, "changed since the preview: "+strings.Join(summary, "; ")
	res.ephemeral, res.toast = true, "Changed: nothing done"
	return res
}

// parseShown reads a pending action's preview (zero for an unreadable one:
// nothing to compare).
func parseShown(b []byte) previewState {
	var st previewState
	_ = json.Unmarshal(b, &st)
	return st
}
