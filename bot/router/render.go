package router

import (
	"fmt"
	"strings"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	txt "github.com/openclaw-bot/openclaw-bot/internal/text"
)

// StaleReport is the age past which a report another fleet instance
// published is called old (its owner evaluates every 30 s by default, and
// at every change).
const StaleReport = 5 * time.Minute

// targetReport is one target's report, or why there is none.
type targetReport struct {
	name string
	rep  diagnostics.Report
	err  error
}

func verdictSeverity(v string) bot.Severity {
	switch v {
	case "down":
		return bot.SevCritical
	case "degraded":
		return bot.SevWarning
	}
	return bot.SevInfo
}

// worstVerdict over the reports that exist; "unknown" when none does.
func worstVerdict(trs []targetReport) string {
	rank := map[string]int{"down": 3, "degraded": 2, "ok": 1}
	worst := "unknown"
	for _, tr := range trs {
		if tr.err == nil && rank[tr.rep.Verdict] > rank[worst] {
			worst = tr.rep.Verdict
		}
	}
	return worst
}

// countFindings says "2 critical, 1 warning" ("no findings").
func countFindings(fs []diagnostics.Finding) string {
	n := map[diagnostics.Severity]int{}
	for _, f := range fs {
		n[f.Severity]++
	}
	var parts []string
	for _, s := range []diagnostics.Severity{diagnostics.Critical, diagnostics.Warning, diagnostics.Info} {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
		}
	}
	if len(parts) == 0 {
		return "no findings"
	}
	return strings.Join(parts, ", ")
}

// reportTitle: "prod: DOWN — 2 critical, 1 warning", or for several
// targets "3 targets: DOWN (the worst)".
func reportTitle(prefix string, trs []targetReport) string {
	if prefix != "" {
		prefix += " — "
	}
	if len(trs) == 1 {
		tr := trs[0]
		name := tr.name
		if name == "" {
			name = tr.rep.Target
		}
		if tr.err != nil {
			return prefix + name + ": could not be evaluated"
		}
		return prefix + name + ": " + strings.ToUpper(tr.rep.Verdict) + " — " + countFindings(tr.rep.Findings)
	}
	return fmt.Sprintf("%s%d targets: %s (the worst)", prefix, len(trs), strings.ToUpper(worstVerdict(trs)))
}

func reportSeverity(trs []targetReport) bot.Severity {
	sev := bot.SevInfo
	for _, tr := range trs {
		s := verdictSeverity(tr.rep.Verdict)
		if tr.err != nil {
			s = bot.SevCritical
		}
		if s.Worse(sev) {
			sev = s
		}
	}
	return sev
}

// header is the install line of one target.
func header(tr targetReport, multi bool) []bot.Span {
	name := tr.name
	if name == "" {
		name = tr.rep.Target
	}
	if tr.err != nil {
		return []bot.Span{bot.B(name + ": could not be evaluated"), bot.T(": " + tr.err.Error() + "\n")}
	}
	r := tr.rep
	v := r.OpenClaw.Version
	if v == "" {
		v = "unknown version"
	}
	var out []bot.Span
	if multi {
		out = append(out, bot.B(name+": "+strings.ToUpper(r.Verdict)), bot.T(" — "))
	}
	out = append(out, bot.T(fmt.Sprintf("OpenClaw %s, %s layout; checked ", v, r.OpenClaw.LayoutText())))
	if r.CheckedAt.IsZero() {
		out = append(out, bot.T("just now"))
	} else {
		out = append(out, bot.At(r.CheckedAt))
	}
	if r.Probed {
		out = append(out, bot.T("; zero-token key check ran"))
	} else {
		out = append(out, bot.T("; key check not run"))
	}
	if src := r.Source; src != nil {
		out = append(out, bot.T("; report of instance "+src.Instance+", "+txt.Duration(src.Age, "")+" old"))
		switch {
		case !src.OwnerSilentSince.IsZero():
			out = append(out, bot.T("\n"), bot.B("Owner "+src.Instance+" silent since "), bot.At(src.OwnerSilentSince),
				bot.B(": this is its last report; the target is not watched and actions are refused"))
		case src.Age > StaleReport:
			out = append(out, bot.T("\n"), bot.B("Old report: instance "+src.Instance+" beats but has not evaluated this target for "+
				txt.Duration(src.Age, "")+"; its log says why (a failing read or store write)"))
		}
	}
	return append(out, bot.T("\n"))
}

// profileLine is one credential: id, type, source, masked secret, health
// and its window and last key check.
func profileLine(p diagnostics.ProfileStatus) []bot.Span {
	id := p.ID
	if p.Agent != "" {
		id += " [" + p.Agent + "]"
	}
	secret := p.Secret
	if secret == "" {
		secret = "-"
	}
	out := []bot.Span{bot.T("• "), bot.C(id), bot.T(fmt.Sprintf(" %s, %s, %s — ", p.Type, p.Source, secret)), bot.B(p.Health)}
	if w := p.WindowText(); w != "" {
		out = append(out, bot.T(" ("+w+" until "), bot.At(p.Until), bot.T(")"))
	} else if !p.Expires.IsZero() {
		out = append(out, bot.T(" (expires "), bot.At(p.Expires), bot.T(")"))
	}
	if p.Location != "" {
		out = append(out, bot.T(" · "+p.Location))
	}
	if p.Check != "" {
		out = append(out, bot.T(" · key check: "+p.Check))
	}
	if p.Shadowed {
		out = append(out, bot.T(" · not used (shadowed)"))
	}
	return append(out, bot.T("\n"))
}

func profileLines(r diagnostics.Report) []bot.Span {
	if len(r.Profiles) == 0 {
		return []bot.Span{bot.T(r.NoProfiles() + "\n")}
	}
	var out []bot.Span
	for _, p := range r.Profiles {
		out = append(out, profileLine(p)...)
	}
	return out
}

func subjectOf(tr targetReport, subject string, multi bool) string {
	if !multi {
		return subject
	}
	if subject == "" {
		return tr.name
	}
	return tr.name + " · " + subject
}

// statusMessage: verdict, one line per credential, the findings' titles.
func statusMessage(prefix string, trs []targetReport) bot.Message {
	multi := len(trs) > 1
	m := bot.Message{Kind: bot.KindReply, Severity: reportSeverity(trs), Title: reportTitle(prefix, trs)}
	if !multi {
		m.Target = trs[0].name
	}
	for _, tr := range trs {
		m.Text = append(m.Text, header(tr, multi)...)
		if tr.err != nil {
			continue
		}
		m.Text = append(m.Text, profileLines(tr.rep)...)
		for _, f := range tr.rep.Findings {
			m.Items = append(m.Items, bot.Item{
				Code: f.Code, Severity: bot.SeverityOf(string(f.Severity)), Subject: subjectOf(tr, f.Subject, multi),
				Title: f.Title, Until: f.Until,
			})
		}
	}
	trimText(&m)
	m.Footer = bot.Line(bot.C("diagnose"), bot.T(" shows evidence and the commands that fix each finding."))
	return m
}

// diagnoseMessage: every finding with its evidence and remedies (commands
// as code spans).
func diagnoseMessage(trs []targetReport) bot.Message {
	multi := len(trs) > 1
	m := bot.Message{Kind: bot.KindReply, Severity: reportSeverity(trs), Title: reportTitle("diagnose", trs)}
	if !multi {
		m.Target = trs[0].name
	}
	for _, tr := range trs {
		m.Text = append(m.Text, header(tr, multi)...)
		if tr.err != nil {
			continue
		}
		m.Text = append(m.Text, profileLines(tr.rep)...)
		for _, f := range tr.rep.Findings {
			it := bot.Item{
				Code: f.Code, Severity: bot.SeverityOf(string(f.Severity)), Subject: subjectOf(tr, f.Subject, multi),
				Title: f.Title, Until: f.Until, Details: bot.Inline(f.Evidence),
			}
			if f.File != "" {
				loc := f.File
				if f.Line > 0 {
					loc += fmt.Sprintf(":%d", f.Line)
					if f.Column > 0 {
						loc += fmt.Sprintf(":%d", f.Column)
					}
				}
				if !strings.Contains(f.Evidence, loc) { // the evidence may name it already
					it.Details = append(it.Details, bot.T(" ("), bot.C(loc), bot.T(")"))
				}
			}
			for _, r := range f.Remedy {
				it.Remedy = append(it.Remedy, bot.Remedy(r))
			}
			m.Items = append(m.Items, it)
		}
	}
	if len(m.Items) == 0 {
		m.Text = append(m.Text, bot.T("No findings: nothing to fix."))
	}
	trimText(&m)
	return m
}

// active reports whether p is in a cooldown or disabled window at now.
func active(p diagnostics.ProfileStatus, now time.Time) bool {
	return !p.Until.IsZero() && now.Before(p.Until)
}

func windowCode(p diagnostics.ProfileStatus) string {
	if p.Health == "disabled" || p.Reason == "billing" || p.Reason == "auth_permanent" {
		return diagnostics.CodeDisabledActive
	}
	return diagnostics.CodeCooldownActive
}

func windowTitle(p diagnostics.ProfileStatus) string {
	kind := "cooldown"
	if windowCode(p) == diagnostics.CodeDisabledActive {
		kind = "disabled"
	}
	t := p.ID
	if p.Agent != "" {
		t += " [" + p.Agent + "]"
	}
	t += ": " + kind
	if p.Reason != "" {
		t += " (" + p.Reason + ")"
	}
	if p.Model != "" {
		t += " on " + p.Model
	} else {
		t += ", every model"
	}
	return t
}

// cooldownsMessage: the profiles with an active window, until as a time.
// withTarget adds the target to the reset commands it suggests (several
// targets are configured).
func cooldownsMessage(trs []targetReport, now time.Time, withTarget bool) bot.Message {
	multi := len(trs) > 1
	m := bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo}
	if !multi {
		m.Target = trs[0].name
	}
	n := 0
	for _, tr := range trs {
		if tr.err != nil {
			m.Text = append(m.Text, header(tr, multi)...)
			m.Severity = bot.SevCritical
			continue
		}
		for _, p := range tr.rep.Profiles {
			if !active(p, now) {
				continue
			}
			n++
			m.Severity = bot.SevCritical
			check := p.Check
			if check == "" {
				check = "not run"
			}
			reset := CmdCooldownReset + " " + p.ID
			if withTarget && tr.name != "" {
				reset += " " + tr.name
			}
			m.Items = append(m.Items, bot.Item{
				Code: windowCode(p), Severity: bot.SevCritical, Subject: subjectOf(tr, p.ID, multi),
				// The end of the window as a time span (each reader's zone);
				// not also as Item.Until, which renderers would repeat.
				Title:   windowTitle(p),
				Details: bot.Line(bot.T("until "), bot.At(p.Until), bot.T(" · health "+p.Health+" · key check: "+check)),
				Remedy:  [][]bot.Span{bot.Line(bot.T("End it early: "), bot.C(reset))},
			})
		}
	}
	where := ""
	if !multi && trs[0].name != "" {
		where = " on " + trs[0].name
	} else if multi {
		where = fmt.Sprintf(" on %d targets", len(trs))
	}
	switch n {
	case 0:
		m.Title = "No profile in cooldown" + where
	case 1:
		m.Title = "1 profile in cooldown" + where
	default:
		m.Title = fmt.Sprintf("%d profiles in cooldown%s", n, where)
	}
	trimText(&m)
	return m
}

// trimText drops the trailing newline of a message's text.
func trimText(m *bot.Message) {
	if n := len(m.Text); n > 0 {
		m.Text[n-1].Text = strings.TrimSuffix(m.Text[n-1].Text, "\n")
		if m.Text[n-1].Text == "" && !m.Text[n-1].IsTime() {
			m.Text = m.Text[:n-1]
		}
	}
}
