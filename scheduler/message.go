package scheduler

import (
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
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
		m.Title = "Still firing (" + msgDuration(now.Sub(fired)) + "): " + base
	default:
		m.Title = base
	}

	m.Footer = []bot.Span{bot.T("target " + n.Target), bot.T(" · ")}
	if n.Kind == bot.KindResolved {
		m.Footer = append(m.Footer, bot.T("resolved after "+msgDuration(resolved.Sub(fired))))
		return m
	}
	m.Footer = append(m.Footer, bot.T("firing since "), bot.At(fired), bot.T(" ("+msgDuration(now.Sub(fired))+")"))
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
		a := bot.Action{Verb: bot.VerbReset, Arg: in.Subject}
		switch {
		case resetButtonCodes[in.Code]:
		case in.Code == diagnostics.CodeCooldownAll:
			a.Arg = "all"
		default:
			continue
		}
		if !slices.Contains(resets, a) && len(resets) < maxResetButtons {
			resets = append(resets, a)
		}
	}
	var out []bot.Button
	for _, a := range resets {
		text := "Reset cooldown"
		if len(resets) > 1 {
			text += ": " + msgTruncate(a.Arg, 40)
		}
		out = append(out, a.Button(text, "primary"))
	}
	return append(out,
		bot.Action{Verb: bot.VerbCheck, Arg: n.Target}.Button("Re-check", ""),
		bot.Action{Verb: bot.VerbSilence, Arg: n.Target, For: "1h"}.Button("Silence 1h", ""),
	)
}

// msgTruncate cuts s to at most n runes, with "…" when cut.
func msgTruncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// msgDuration renders 45s, 12m, 4h, 4h30m, 3d.
func msgDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}
