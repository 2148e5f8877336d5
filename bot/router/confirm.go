package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// previewState is what a preview showed, as JSON: the pending action's
// Preview and the audit rows' Before. It never holds a secret (not even a
// masked one).
type previewState struct {
	Command  string         `json:"command"`
	Target   string         `json:"target,omitempty"`
	Args     []string       `json:"args,omitempty"`
	Verdict  string         `json:"verdict,omitempty"`
	Profiles []profileState `json:"profiles,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
	Undo     *undoState     `json:"undo,omitempty"`
	// State is the usage state of the profiles a cooldown reset or undo
	// changes, as the preview read it: Confirm compares it (stale.go).
	State *shownState `json:"state,omitempty"`
	// Why the bot acted by itself (an automatic reset): the findings.
	Why []string `json:"why,omitempty"`
}

type profileState struct {
	ID     string    `json:"id"`
	Agent  string    `json:"agent,omitempty"`
	Health string    `json:"health"`
	Reason string    `json:"reason,omitempty"`
	Model  string    `json:"model,omitempty"`
	Until  time.Time `json:"until,omitzero"`
	Check  string    `json:"check,omitempty"`
}

type undoState struct {
	Audit   int64     `json:"audit"`
	Command string    `json:"command"`
	Args    []string  `json:"args,omitempty"`
	At      time.Time `json:"at"`
	Backup  string    `json:"backup"`
}

func stateOf(p diagnostics.ProfileStatus) profileState {
	return profileState{ID: p.ID, Agent: p.Agent, Health: p.Health, Reason: p.Reason, Model: p.Model, Until: p.Until, Check: p.Check}
}

// ---- cooldown reset ----

// resetHit is a target where a reset's profile exists (matched) and those
// of its copies that are in a window (sel).
type resetHit struct {
	target  string // as given to the Diagnoser (and the action)
	tr      targetReport
	matched []diagnostics.ProfileStatus // the profile (every agent's copy)
	sel     []diagnostics.ProfileStatus // those in a window
}

// resetHits reads cmd's target, or every target when it names none, and
// returns where its profile is (with "all": every target with a window),
// what could not be read, every profile id seen, and the targets read.
func (r *Router) resetHits(ctx context.Context, cmd Command) (hits []resetHit, errs, known, cands []string) {
	cands = []string{cmd.Target}
	if cmd.Target == "" {
		if ts := r.targets(); len(ts) > 0 {
			cands = ts
		}
	}
	now := r.now()
	for _, t := range cands {
		rep, err := r.diag.Report(ctx, t, false)
		if err != nil {
			errs = append(errs, targetName(t)+": "+err.Error())
			continue
		}
		name := t
		if name == "" {
			name = rep.Target
		}
		h := resetHit{target: t, tr: targetReport{name: name, rep: rep}}
		for _, p := range rep.Profiles {
			known = append(known, p.ID)
			if cmd.Profile != "all" && !matchesProfile(cmd.Profile, p) {
				continue
			}
			if cmd.Profile != "all" {
				h.matched = append(h.matched, p)
			}
			if active(p, now) {
				h.sel = append(h.sel, p)
			}
		}
		if len(h.matched) > 0 || len(h.sel) > 0 {
			hits = append(hits, h)
		}
	}
	return hits, errs, known, cands
}

func (r *Router) previewReset(ctx context.Context, who Who, cmd Command) result {
	if r.diag == nil {
		return failure("Cannot read the install", errors.New("no install is configured for chat commands"))
	}
	hits, errs, known, cands := r.resetHits(ctx, cmd)
	if len(errs) == len(cands) {
		return failure("Could not read "+targetName(cmd.Target), errors.New(strings.Join(errs, "; ")))
	}
	if len(hits) > 1 {
		var act []resetHit
		for _, h := range hits {
			if len(h.sel) > 0 {
				act = append(act, h)
			}
		}
		if len(act) == 1 {
			hits = act
		} else {
			var names []string
			for _, h := range hits {
				names = append(names, h.tr.name)
			}
			ex := cmd
			ex.Target = names[0]
			what := cmd.Profile
			if what == "all" {
				what = "Cooldowns"
			}
			return refusal(fmt.Sprintf("Which target? %s on %s", what, strings.Join(names, ", ")),
				bot.T("Say which one, e.g. "), bot.C(ex.String()), bot.T("."))
		}
	}
	if len(hits) == 0 {
		if cmd.Profile == "all" {
			return result{msg: bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo, Target: cmd.Target,
				Title: "No profile is in cooldown on " + targetsText(cands) + ": nothing to reset"}}
		}
		slices.Sort(known)
		known = slices.Compact(known)
		res := refusal("No profile "+quote(cmd.Profile)+" on "+targetsText(cands),
			bot.T("Profiles: "+orNone(strings.Join(known, ", "))+". "), bot.C("status"), bot.T(" lists them."))
		res.err = "no such profile"
		return res
	}
	h := hits[0]
	cmd.Target = h.target
	if cmd.Profile != "all" && len(h.matched) > 0 {
		cmd.Profile = h.matched[0].ID // an alert button may have cut it
	}
	if len(h.sel) == 0 {
		p := h.matched[0]
		return result{msg: bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo, Target: h.tr.name,
			Title: fmt.Sprintf("%s on %s is not in cooldown (health %s): nothing to reset", p.ID, targetName(h.tr.name), p.Health)},
			args: cmd.Args()}
	}

	var ids []string
	st := previewState{Command: cmd.String(), Target: h.tr.name, Verdict: h.tr.rep.Verdict}
	m := bot.Message{Kind: bot.KindReply, Severity: bot.SevWarning, Target: h.tr.name}
	for _, p := range h.sel {
		if !slices.Contains(ids, p.ID) {
			ids = append(ids, p.ID)
		}
		st.Profiles = append(st.Profiles, stateOf(p))
		check := p.Check
		if check == "" {
			check = "not run"
		}
		m.Items = append(m.Items, bot.Item{
			Code: windowCode(p), Severity: bot.SevCritical, Subject: p.ID, Title: windowTitle(p), Until: p.Until,
			Details: bot.Line(bot.T("now: health " + p.Health + " · reason " + orNone(p.Reason) + " · last key check: " + check)),
		})
		for _, w := range resetWarnings(h.tr.rep, p) {
			st.Warnings = append(st.Warnings, w.text)
			m.Text = append(m.Text, bot.B("⚠ "+w.text))
			for _, rem := range w.remedy {
				m.Text = append(m.Text, bot.T("\n   "))
				m.Text = append(m.Text, bot.Remedy(rem)...)
			}
			m.Text = append(m.Text, bot.T("\n"))
			m.Severity = bot.SevCritical
		}
	}
	st.Args = ids
	st.State = shownOf(h.tr.rep, ids)
	if len(ids) == 1 {
		m.Title = "Reset the cooldown of " + ids[0] + " on " + targetName(h.tr.name) + "?"
	} else {
		m.Title = fmt.Sprintf("Reset %d cooldowns on %s?", len(ids), targetName(h.tr.name))
	}
	confirm := bot.Line(bot.T("Confirm clears the window above (cooldown/disabled until and the failure counts) of "),
		bot.C(strings.Join(ids, " ")), bot.T(" on "+targetName(h.tr.name)+"."))
	return r.makePreview(ctx, who, cmd, h.target, ids, st, m, confirm)
}

type warning struct {
	text   string
	remedy []string
}

// resetWarnings say, before Confirm, why a reset would not help p.
func resetWarnings(rep diagnostics.Report, p diagnostics.ProfileStatus) []warning {
	finding := func(code string) (diagnostics.Finding, bool) {
		for _, f := range rep.Findings {
			if f.Code == code && f.Subject == p.ID {
				return f, true
			}
		}
		return diagnostics.Finding{}, false
	}
	replace := func(codes ...string) []string {
		for _, c := range codes {
			if f, ok := finding(c); ok {
				var out []string
				for _, r := range f.Remedy {
					if strings.Contains(r, "paste-") || strings.Contains(r, "auth login") || strings.Contains(r, "setup-token") {
						out = append(out, r)
					}
				}
				if len(out) > 0 {
					return out[:min(len(out), 2)]
				}
			}
		}
		return []string{`Store a valid key: printf '%s' "$NEW_ANTHROPIC_KEY" | openclaw models auth paste-api-key --provider anthropic --profile-id ` + p.ID}
	}
	var out []warning
	_, rejected := finding(diagnostics.CodeKeyRejected)
	_, forbidden := finding(diagnostics.CodeKeyForbidden)
	_, malformed := finding(diagnostics.CodeKeyMalformed)
	_, billing := finding(diagnostics.CodeBillingBlocked)
	switch {
	case rejected || p.Check == string(diagnostics.StatusRejected):
		out = append(out, warning{"The key of " + p.ID + " is known rejected: the last key check got 401 from Anthropic. " +
			"A reset does not fix that: the next request fails and the cooldown comes back. Replace the key first:",
			replace(diagnostics.CodeKeyRejected, diagnostics.CodeCooldownActive)})
	case forbidden || p.Check == string(diagnostics.StatusForbidden):
		out = append(out, warning{"The key of " + p.ID + " is forbidden: the last key check got 403 from Anthropic. " +
			"A reset does not fix that; fix the key's permissions or replace it:",
			replace(diagnostics.CodeKeyForbidden, diagnostics.CodeCooldownActive)})
	case malformed || p.Health == "invalid":
		out = append(out, warning{"The key of " + p.ID + " cannot work (malformed). A reset does not fix that; replace it:",
			replace(diagnostics.CodeKeyMalformed, diagnostics.CodeCooldownActive)})
	}
	subscription := p.Type == "token" || p.Type == "oauth" || p.Location != ""
	switch {
	case (billing || p.Reason == "billing") && subscription:
		out = append(out, warning{p.ID + " is a Claude subscription login disabled for billing: most likely its extra usage is off or used up " +
			"(OpenClaw records Anthropic's \"extra usage\" errors as billing). A credit top-up does not help it, and neither does a reset alone: " +
			"the next request gets the same error and disables it again. Enable extra usage for the Claude account (its usage settings on claude.ai) " +
			"or wait for the subscription's limit to reset first, or switch to an API key:", []string{`printf '%s' "$NEW_ANTHROPIC_KEY" | openclaw models auth paste-api-key --provider anthropic --profile-id anthropic:api`}})
	case billing || p.Reason == "billing":
		out = append(out, warning{p.ID + " is disabled for billing. A reset adds no credits: the next request disables it again. " +
			"Top up in the Anthropic console (Plans & Billing) first.", nil})
	}
	if p.Window == "blocked" && p.Reason == "subscription_limit" {
		out = append(out, warning{p.ID + " is blocked by its subscription's usage limit until the provider's reset time. A reset does not lift the limit: " +
			"the next request is refused and blocks it again. Wait for the reset, or switch to an API key.", nil})
	}
	if p.Secret == "refresh-fence:pending" {
		out = append(out, warning{"The OAuth login of " + p.ID + " is held by an unfinished token refresh (a pending refresh fence): a reset does not touch it; " +
			"if it stays pending, log in again:", replace(diagnostics.CodeOAuthRefreshPending)})
		return out
	}
	switch p.Health {
	case "refresh_failed":
		out = append(out, warning{"The OAuth login of " + p.ID + " failed to refresh: it needs a new login, a reset does not help:",
			replace(diagnostics.CodeOAuthRefreshFailed)})
	case "expired":
		out = append(out, warning{"The credential of " + p.ID + " has expired: log in again or replace it first:",
			replace(diagnostics.CodeCredentialExpired)})
	}
	return out
}

func targetsText(ts []string) string {
	if len(ts) == 1 {
		return targetName(ts[0])
	}
	return "any target"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// ---- undo ----

func (r *Router) previewUndo(ctx context.Context, who Who, cmd Command) result {
	if r.store == nil {
		return failure("Cannot undo", errors.New("the bot has no store"))
	}
	id, _ := strconv.ParseInt(cmd.ID, 10, 64)
	e, err := r.store.AuditEntry(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		res := refusal("No audit entry #"+cmd.ID, bot.C("audit"), bot.T(" lists them (admins)."))
		res.err = "no such audit entry"
		return res
	}
	if err != nil {
		return failure("Could not read audit entry #"+cmd.ID, err)
	}
	if e.BackupPath == "" || e.Outcome != OutcomeOK {
		res := refusal(fmt.Sprintf("Audit #%d (%s, %s) took no backup: nothing to undo", e.ID, e.Command, e.Outcome),
			bot.T("Only a confirmed cooldown reset that took a backup can be undone."))
		res.err = "nothing to undo"
		return res
	}
	target := ""
	var args []string
	if len(e.Args) > 0 {
		target, args = e.Args[0], e.Args[1:]
	}
	who2 := e.Actor
	if e.ActorName != "" && e.ActorName != e.Actor {
		who2 = e.ActorName + " (" + e.Actor + ")"
	}
	st := previewState{Command: cmd.String(), Target: target, Args: []string{cmd.ID, e.BackupPath},
		Undo: &undoState{Audit: e.ID, Command: e.Command, Args: e.Args, At: e.At, Backup: e.BackupPath}}
	m := bot.Message{Kind: bot.KindReply, Severity: bot.SevWarning, Target: target,
		Title: fmt.Sprintf("Undo audit #%d (%s on %s)?", e.ID, e.Command, targetName(target)),
		Text: bot.Line(bot.T(fmt.Sprintf("Audit #%d: ", e.ID)), bot.C(strings.TrimSpace(e.Command+" "+strings.Join(args, " "))),
			bot.T(" by "+who2+" at "), bot.At(e.At), bot.T(".\n")),
	}
	// What the undo would overwrite (Confirm refuses if it changes) and,
	// from the reset's own preview, what it restores.
	if e.Command == CmdCooldownReset && len(args) > 0 && r.diag != nil {
		if rep, err := r.diag.Report(ctx, target, false); err != nil {
			m.Text = append(m.Text, bot.T("Could not read the current state: "+err.Error()+"\n"))
		} else {
			st.State = shownOf(rep, args)
			if len(st.State.Windows) == 0 {
				m.Text = append(m.Text, bot.T("Now: "+strings.Join(args, ", ")+": no usage state.\n"))
			}
			for _, w := range st.State.Windows {
				m.Text = append(m.Text, bot.T("Now: "+profileName(w.Profile, w.Agent)+": "))
				m.Text = append(append(m.Text, windowText(w)...), bot.T("\n"))
			}
		}
	}
	if was := parseShown(e.Before).State; was != nil {
		for _, w := range was.Windows {
			m.Text = append(m.Text, bot.T("Before the reset: "+profileName(w.Profile, w.Agent)+": "))
			m.Text = append(append(m.Text, windowText(w)...), bot.T("\n"))
		}
	}
	confirm := bot.Line(bot.T("Confirm restores the backup that command took, "), bot.C(e.BackupPath),
		bot.T(": the state before it. Whatever changed in that state since then is lost."))
	return r.makePreview(ctx, who, cmd, target, []string{cmd.ID, e.BackupPath}, st, m, confirm)
}

// ---- restart, doctor fix, probe --spend ----

// targetPreview adds to the preview of a command on one install as a whole
// what differs per command: the title, its facts, the args of the action
// and what Confirm does.
type targetPreview func(cmd Command, target string, tr targetReport, m *bot.Message, st *previewState) (args []string, confirm []bot.Span)

// onTarget is the run of a command on one install as a whole: the target's
// verdict and header, then build's part.
func onTarget(build targetPreview) func(*Router, context.Context, Who, Command) result {
	return func(r *Router, ctx context.Context, who Who, cmd Command) result {
		target, res, ok := r.oneTarget(cmd)
		if !ok {
			return res
		}
		tr := r.reports(ctx, target, false)[0] // tr.name: the report's own name when target is ""
		st := previewState{Command: cmd.String(), Target: tr.name, Verdict: tr.rep.Verdict}
		m := bot.Message{Kind: bot.KindReply, Severity: bot.SevWarning, Target: tr.name}
		m.Text = append(m.Text, bot.T("Now: "))
		if tr.err == nil {
			m.Text = append(m.Text, bot.B(strings.ToUpper(tr.rep.Verdict)), bot.T(" — "))
		}
		m.Text = append(m.Text, header(tr, false)...)
		args, confirm := build(cmd, target, tr, &m, &st)
		st.Args = args
		return r.makePreview(ctx, who, cmd, target, args, st, m, confirm)
	}
}

func restartPreview(cmd Command, _ string, tr targetReport, m *bot.Message, st *previewState) ([]string, []bot.Span) {
	name := targetName(tr.name)
	m.Title = "Restart the OpenClaw gateway of " + name + "?"
	st.Profiles = targetProfiles(cmd.Name, tr.rep)
	return nil, bot.Line(bot.T("Confirm restarts the gateway of "+name+". Conversations in progress are interrupted; "+
		"it is ready again after about 20 s. It reloads credentials and cooldowns from disk: OpenClaw 2026.9.6 persists "+
		"cooldowns, so a restart does not end one ("), bot.C("cooldown reset"), bot.T(" does)."))
}

func doctorFixPreview(cmd Command, target string, tr targetReport, m *bot.Message, st *previewState) ([]string, []bot.Span) {
	name := targetName(tr.name)
	m.Title = "Run openclaw doctor --fix on " + name + "?"
	st.Profiles = targetProfiles(cmd.Name, tr.rep)
	for _, f := range tr.rep.Findings {
		if diagnostics.Spec(f.Code).Remedy == diagnostics.RemedyDoctorFix {
			m.Items = append(m.Items, bot.Item{Code: f.Code, Severity: bot.SeverityOf(string(f.Severity)), Subject: f.Subject, Title: f.Title})
		}
	}
	// doctor --fix refreshes OAuth/token logins; a failed refresh destroys
	// one for good, so each must be named (or "all") to be allowed.
	var args, unnamed []string
	for _, p := range tr.rep.Profiles {
		// A fenced login is no refresh candidate (doctor skips it, and
		// so does the action); Claude Code's own login is not in
		// OpenClaw's store, so doctor cannot refresh it.
		if p.Type != "oauth" && p.Type != "token" || p.Health == "refresh_failed" || strings.HasPrefix(p.Secret, "refresh-fence:") ||
			p.ID == diagnostics.ClaudeKeyID && p.Source == diagnostics.SourceConfig {
			continue
		}
		if cmd.Profile == "all" || cmd.Profile == p.ID {
			args = append(args, p.ID)
			m.Items = append(m.Items, bot.Item{Code: "doctor.refresh", Severity: bot.SevWarning, Subject: p.ID,
				Title: p.ID + " (" + p.Type + ") may be refreshed: allowed by you"})
			continue
		}
		unnamed = append(unnamed, p.ID)
	}
	confirm := bot.Line(bot.T("Confirm runs "), bot.C("openclaw doctor --fix"), bot.T(" on "+name+
		": it migrates legacy credential files into SQLite and refreshes expired or expiring OAuth logins, after a backup "+
		"of the state. It never clears cooldowns, and a failed OAuth refresh still needs a new login."))
	if len(unnamed) > 0 {
		confirm = append(confirm, bot.T(" It will REFUSE to run while these logins are not named, because a failed refresh destroys a login for good: "+
			strings.Join(unnamed, ", ")+". To allow them: "), bot.C("doctor fix "+strings.TrimSpace(target+" "+unnamed[0])), bot.T(" (or all)."))
	}
	if tr.err == nil && len(m.Items) == 0 {
		confirm = append(confirm, bot.T(" The last diagnosis has nothing doctor --fix repairs: it will probably change nothing."))
	}
	return args, confirm
}

func probeSpendPreview(cmd Command, _ string, tr targetReport, m *bot.Message, st *previewState) ([]string, []bot.Span) {
	name := targetName(tr.name)
	m.Title = "Run OpenClaw's token-spending probe on " + name + "?"
	var args []string
	for _, p := range tr.rep.Profiles {
		if p.Provider != "anthropic" || p.Source == "env" && p.Shadowed {
			continue
		}
		if !slices.Contains(args, p.ID) {
			args = append(args, p.ID)
		}
		m.Text = append(m.Text, profileLine(p)...)
	}
	st.Profiles = targetProfiles(cmd.Name, tr.rep)
	return args, bot.Line(bot.T("Confirm runs OpenClaw's own probe on "+name+": one real request per profile above, "+
		"which spends a few tokens; a 401 puts the profile into a 30 s auth cooldown (with a gateway running it goes "+
		"through the gateway's models.probe). The free alternative is "), bot.C("check"), bot.T(" (zero-token)."))
}

// makePreview stores the pending action and answers with the facts, what
// Confirm will do, and the Confirm/Cancel buttons. When the Actions cannot
// do the command, it answers with the facts and what to do by hand.
func (r *Router) makePreview(ctx context.Context, who Who, cmd Command, target string, args []string,
	st previewState, m bot.Message, confirm []bot.Span) result {
	js, err := json.Marshal(st)
	if err != nil {
		return failure("Could not build the preview", err)
	}
	if ex, ok := r.actions.(Explainer); ok {
		if exp, unavailable := ex.Explain(cmd.Name, target, args); unavailable {
			m.Title = exp.Title
			if exp.Severity != "" && exp.Severity.Worse(m.Severity) {
				m.Severity = exp.Severity
			}
			if len(m.Text) > 0 {
				m.Text = append(m.Text, bot.T("\n"))
			}
			m.Text = append(m.Text, exp.Text...)
			trimText(&m)
			return result{msg: m, ephemeral: true, outcome: OutcomeFailed, err: "not available in this release",
				before: js, args: cmd.Args(), toast: "Not available"}
		}
	}
	if r.store == nil {
		return failure("Cannot ask for confirmation", errors.New("the bot has no store"))
	}
	now := r.now()
	p := &store.Pending{
		Actor: who.key(), Surface: who.Surface, Where: who.Where, Command: cmd.Name,
		Args: append([]string{target}, args...), Preview: js, Created: now, Expires: now.Add(store.PendingTTL),
	}
	if err := r.store.AddPending(ctx, p); err != nil {
		return failure("Could not ask for confirmation", err)
	}
	m.Text = append(m.Text, confirm...)
	m.Text = append(m.Text, bot.T(" Nothing changes until you press Confirm."))
	trimText(&m)
	style := "primary"
	if spec, _ := SpecOf(cmd.Name); spec.danger {
		style = "danger"
	}
	m.Buttons = []bot.Button{
		bot.Action{Verb: bot.VerbConfirm, Arg: p.ID}.Button(ConfirmText, style),
		bot.Action{Verb: bot.VerbCancel, Arg: p.ID}.Button(CancelText, ""),
	}
	m.Footer = bot.Line(bot.T(fmt.Sprintf("Valid %d minutes, for ", int(store.PendingTTL/time.Minute))), bot.B(who.display()),
		bot.T(" only, once."))
	return result{msg: m, ephemeral: true, outcome: OutcomePreviewed, before: js, args: cmd.Args(), toast: "Preview"}
}

// ---- Confirm / Cancel ----

func (r *Router) confirm(ctx context.Context, who Who, id string) result {
	if r.store == nil {
		res := failure("Cannot confirm", errors.New("the bot has no store"))
		res.command, res.args = "confirm", []string{}
		return res
	}
	p, err := r.store.TakePending(ctx, id, who.key(), r.now())
	if err != nil {
		return pendingRefusal(err, "confirm")
	}
	spec, ok := SpecOf(p.Command)
	if !ok || !spec.Confirm {
		res := failure("Cannot confirm "+quote(p.Command), errors.New("not a command that needs confirmation"))
		res.command, res.args = p.Command, p.Args
		return res
	}
	// The role may have been taken away since the preview.
	if res, ok := r.authorize(who, spec); !ok {
		res.command, res.args, res.before = p.Command, p.Args, p.Preview
		return res
	}
	target, args := "", []string(nil)
	if len(p.Args) > 0 {
		target, args = p.Args[0], p.Args[1:]
	}
	shown := parseShown(p.Preview)
	if changes := r.staleTarget(ctx, p, shown); len(changes) > 0 {
		return r.repreview(ctx, who, p, shown, changes, "")
	}
	actx, n := withNote(ctx)
	actx = withExpected(actx, shown.State)
	msg, err := call(actx, r.actions, p.Command, target, args)
	if errors.Is(err, ErrChangedSincePreview) {
		return r.repreview(ctx, who, p, shown, nil, err.Error())
	}
	backup, after := n.get()
	res := result{command: p.Command, args: p.Args, before: p.Preview, after: after, backup: backup,
		confirmed: true, toast: "Done"}
	what := p.Command + " on " + targetName(target)
	if err != nil {
		res.outcome, res.err, res.toast = OutcomeFailed, err.Error(), "Failed"
		if msg.Title == "" {
			msg.Title = what + " failed"
		}
		msg.Severity = bot.SevCritical
		msg.Text = append([]bot.Span{bot.T(err.Error() + "\n")}, msg.Text...)
		trimText(&msg)
	}
	if msg.Title == "" {
		msg.Title = what + ": done"
	}
	msg.Kind = bot.KindReply
	if msg.Target == "" {
		msg.Target = target
	}
	res.msg = msg
	return res
}

func (r *Router) cancel(ctx context.Context, who Who, id string) result {
	if r.store == nil {
		res := failure("Cannot cancel", errors.New("the bot has no store"))
		res.command, res.args = "cancel", []string{}
		return res
	}
	p, err := r.store.TakePending(ctx, id, who.key(), r.now())
	if err != nil {
		return pendingRefusal(err, "cancel")
	}
	target := ""
	if len(p.Args) > 0 {
		target = p.Args[0]
	}
	return result{
		msg: bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo, Target: target,
			Title: "Cancelled: " + p.Command + " on " + targetName(target) + " — nothing changed"},
		ephemeral: true, outcome: OutcomeCancelled, command: p.Command, args: p.Args, before: p.Preview, toast: "Cancelled",
	}
}

// pendingRefusal explains why a Confirm/Cancel press did nothing. The
// pending id (a bearer capability) appears nowhere.
func pendingRefusal(err error, verb string) result {
	var res result
	switch {
	case errors.Is(err, store.ErrWrongActor):
		res = refusal("Only the person who asked can "+verb+" this",
			bot.T("Nothing happened. To do it yourself, run the command: you get your own preview."))
		res.err = verb + ": requested by someone else"
	case errors.Is(err, store.ErrExpired):
		res = refusal("This confirmation has expired",
			bot.T(fmt.Sprintf("Previews are valid for %d minutes. Nothing happened; run the command again for a fresh one.", int(store.PendingTTL/time.Minute))))
		res.err = verb + ": expired"
	case errors.Is(err, store.ErrUsed):
		res = refusal("Already confirmed or cancelled",
			bot.T("Nothing happened this time: a preview can be used once."))
		res.err = verb + ": already used"
	case errors.Is(err, store.ErrNotFound):
		res = refusal("Unknown confirmation",
			bot.T("Nothing happened. Run the command again for a fresh preview."))
		res.err = verb + ": not found"
	default:
		res = failure("Could not "+verb, err)
	}
	res.command, res.args = verb, []string{}
	if res.outcome == OutcomeRefused {
		res.toast = "Nothing happened"
	}
	return res
}
