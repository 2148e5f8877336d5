package scheduler

import (
	"fmt"
	"slices"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/text"
)

// maxResetButtons caps the "Reset cooldown" buttons of one message.
const maxResetButtons = 5

// Message renders the notice as a platform-neutral chat message:
//   - Title: "openclaw-bot: 2 problems on target prod" (one incident: its
//     title appended), "Still firing (4h): …" for a reminder, "Resolved: …"
//     for a resolved notice;
//   - one Item per incident (evidence as details, commands in backticks as
//     code spans, Until from the finding; Resolved set in a resolved notice);
//   - buttons on alerts and reminders (bot.Action payloads): "Reset
//     cooldown" per cooldown incident (cooldown.active and cooldown.stale:
//     "reset:<subject>", one per subject; "reset:all" for cooldown.all),
//     "Re-check" ("check:<target>") and "Silence 1h"
//     ("silence:<target>:1h");
//   - footer: the target and how long it has been firing, or
//     "resolved after 12m".
func (n Notice) Message(now time.Time) bot.Message {
	m := bot.Message{Kind: n.Kind, Target: n.Target, Ref: n.Ref, Severity: bot.SevInfo}
	if n.Kind == bot.KindResolved {
		m.Severity = bot.SevResolved
	}
	var fired, resolved time.Time
	for _, in := range n.Incidents {
		it := msgItem(in, n.Kind == bot.KindResolved)
		m.Items = append(m.Items, it)
		if n.Kind != bot.KindResolved && it.Severity.Worse(m.Severity) {
			m.Severity = it.Severity
		}
		if t := msgFiredAt(in); !t.IsZero() && (fired.IsZero() || t.Before(fired)) {
			fired = t
		}
		if in.ResolvedAt.After(resolved) {
			resolved = in.ResolvedAt
		}
	}
	if fired.IsZero() {
		fired = now
	}
	if resolved.IsZero() {
		resolved = now
	}

	base := "openclaw-bot: " + msgCount(n.Incidents) + " on target " + n.Target
	if len(n.Incidents) == 1 {
		base += ": " + n.Incidents[0].Finding.Title
	}
	switch n.Kind {
	case bot.KindResolved:
		m.Title = "Resolved: " + base
	case bot.KindReminder:
		m.Title = "Still firing (" + text.Duration(now.Sub(fired), "") + "): " + base
	default:
		m.Title = base
	}

	m.Footer = []bot.Span{bot.T("target " + n.Target), bot.T(" · ")}
	if n.Kind == bot.KindResolved {
		m.Footer = append(m.Footer, bot.T("resolved after "+text.Duration(resolved.Sub(fired), "")))
		return m
	}
	m.Footer = append(m.Footer, bot.T("firing since "), bot.At(fired), bot.T(" ("+text.Duration(now.Sub(fired), "")+")"))
	m.Buttons = msgButtons(n)
	return m
}

// msgFiredAt is when an incident started to matter for the reader.
func msgFiredAt(in Incident) time.Time {
	if !in.FiredAt.IsZero() {
		return in.FiredAt
	}
	return in.FirstSeen
}

func msgItem(in Incident, resolved bool) bot.Item {
	f := in.Finding
	code, sev, subject, title := f.Code, f.Severity, f.Subject, f.Title
	if code == "" {
		code = in.Code
	}
	if sev == "" {
		sev = in.Severity
	}
	if subject == "" {
		subject = in.Subject
	}
	if title == "" {
		title = code
	}
	it := bot.Item{Code: code, Severity: bot.SeverityOf(string(sev)), Subject: subject, Title: title, Resolved: resolved}
	it.Details = bot.Inline(f.Evidence)
	if f.File != "" {
		loc := f.File
		if f.Line > 0 {
			loc += fmt.Sprintf(":%d", f.Line)
			if f.Column > 0 {
				loc += fmt.Sprintf(":%d", f.Column)
			}
		}
		if len(it.Details) > 0 {
			it.Details = append(it.Details, bot.T(" "))
		}
		it.Details = append(it.Details, bot.T("("), bot.C(loc), bot.T(")"))
	}
	if in.AckedBy != "" {
		if len(it.Details) > 0 {
			it.Details = append(it.Details, bot.T(" "))
		}
		it.Details = append(it.Details, bot.T("Acked by "+in.AckedBy+"."))
	}
	if !resolved {
		// A resolved item's window is over; "until … (in 4m)" would mislead.
		it.Until = f.Until
	}
	for _, r := range f.Remedy {
		it.Remedy = append(it.Remedy, bot.Remedy(r))
	}
	return it
}

// msgCount says "2 problems", "1 notice", "2 problems and 1 notice":
// warnings and criticals are problems, info findings (events) notices.
func msgCount(list []Incident) string {
	var problems, notices int
	for _, in := range list {
		if in.Severity == diagnostics.Info {
			notices++
		} else {
			problems++
		}
	}
	plural := func(n int, word string) string {
		if n == 1 {
			return "1 " + word
		}
		return fmt.Sprintf("%d %ss", n, word)
	}
	switch {
	case notices == 0:
		return plural(problems, "problem")
	case problems == 0:
		return plural(notices, "notice")
	}
	return plural(problems, "problem") + " and " + plural(notices, "notice")
}

func msgButtons(n Notice) []bot.Button {
	var resets []bot.Action
	for _, in := range n.Incidents {
		a, ok := alertAction(diagnostics.Spec(in.Code).Button, in.Subject)
		a.For = n.Target // the reset is of this alert's target
		if ok && !slices.Contains(resets, a) && len(resets) < maxResetButtons {
			resets = append(resets, a)
		}
	}
	var out []bot.Button
	for _, a := range resets {
		label := "Reset cooldown"
		if len(resets) > 1 {
			label += ": " + text.Truncate(a.Arg, 40)
		}
		out = append(out, a.Button(label, "primary"))
	}
	check, _ := alertAction(diagnostics.ButtonCheck, n.Target)
	silence, _ := alertAction(diagnostics.ButtonSilence, n.Target)
	return append(out, check.Button("Re-check", ""), silence.Button("Silence 1h", ""))
}

// alertAction is the one place that turns the code table's alert buttons
// (diagnostics.AlertButton) into chat actions: arg is the finding's subject
// for a reset, the target for Re-check and Silence.
func alertAction(kind diagnostics.AlertButton, arg string) (bot.Action, bool) {
	switch kind {
	case diagnostics.ButtonReset:
		return bot.Action{Verb: bot.VerbReset, Arg: arg}, true
	case diagnostics.ButtonResetAll:
		return bot.Action{Verb: bot.VerbReset, Arg: "all"}, true
	case diagnostics.ButtonCheck:
		return bot.Action{Verb: bot.VerbCheck, Arg: arg}, true
	case diagnostics.ButtonSilence:
		return bot.Action{Verb: bot.VerbSilence, Arg: arg, For: "1h"}, true
	}
	return bot.Action{}, false
}
