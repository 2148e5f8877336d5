package diagnostics

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteStatus writes the short human form of a report: install, verdict,
// one line per credential, one line per finding.
func (r Report) WriteStatus(w io.Writer) {
	r.header(w)
	r.profiles(w)
	if len(r.Findings) == 0 {
		fmt.Fprintln(w, "\nNo findings.")
		return
	}
	fmt.Fprintln(w, "\nFindings:")
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  %-8s %-24s %s\n", f.Severity, f.Code, f.Title)
	}
	fmt.Fprintln(w, "\nRun `openclaw-bot diagnose` for evidence and remedies.")
}

// WriteDiagnosis writes every finding with its evidence and remedies. The
// text is safe to paste into a ticket: secrets are masked.
func (r Report) WriteDiagnosis(w io.Writer) {
	r.header(w)
	r.profiles(w)
	if len(r.Findings) == 0 {
		fmt.Fprintln(w, "\nNo findings: nothing to fix.")
		return
	}
	for i, f := range r.Findings {
		fmt.Fprintf(w, "\n%d. [%s] %s — %s\n", i+1, f.Severity, f.Code, f.Title)
		if f.Subject != "" {
			fmt.Fprintf(w, "   subject:  %s\n", f.Subject)
		}
		if f.File != "" {
			pos := f.File
			switch {
			case f.Line > 0 && f.Column > 0:
				pos += fmt.Sprintf(":%d:%d", f.Line, f.Column)
			case f.Line > 0:
				pos += fmt.Sprintf(":%d", f.Line)
			}
			fmt.Fprintf(w, "   file:     %s\n", pos)
		}
		fmt.Fprintf(w, "   evidence: %s\n", indent(f.Evidence, "             "))
		for j, rem := range f.Remedy {
			label := "   remedy:   "
			if j > 0 {
				label = "             "
			}
			fmt.Fprintf(w, "%s- %s\n", label, indent(rem, "               "))
		}
	}
}

func (r Report) header(w io.Writer) {
	v := r.OpenClaw.Version
	if v == "" {
		v = "unknown version"
	}
	fmt.Fprintf(w, "%s: %s — OpenClaw %s, %s layout, %s\n", r.Target, strings.ToUpper(r.Verdict), v, r.OpenClaw.LayoutText(), r.OpenClaw.StateDir)
	probe := "key check not run (add --probe)"
	if r.Probed {
		probe = "zero-token key check ran"
	}
	fmt.Fprintf(w, "checked %s; %s\n", r.CheckedAt.UTC().Format(time.RFC3339), probe)
}

func (r Report) profiles(w io.Writer) {
	if len(r.Profiles) == 0 {
		fmt.Fprintln(w, "\n"+r.NoProfiles())
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tTYPE\tSOURCE\tSECRET\tHEALTH\tDETAIL")
	for _, p := range r.Profiles {
		detail := []string{}
		if w := p.WindowText(); w != "" {
			detail = append(detail, w+" until "+p.Until.UTC().Format(time.RFC3339))
		} else if !p.Expires.IsZero() {
			detail = append(detail, "expires "+p.Expires.UTC().Format(time.RFC3339))
		}
		if p.Location != "" {
			detail = append(detail, p.Location)
		}
		if p.Check != "" {
			detail = append(detail, "check: "+p.Check)
		}
		if p.Shadowed {
			detail = append(detail, "not used (shadowed)")
		}
		id := p.ID
		if p.Agent != "" {
			id += " [" + p.Agent + "]"
		}
		secret := p.Secret
		if secret == "" {
			secret = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", id, p.Type, p.Source, secret, p.Health, strings.Join(detail, "; "))
	}
	tw.Flush()
}

// WindowText is the window behind a profile's health, without its end:
// "cooldown auth", "blocked subscription_limit on claude-opus-5",
// "cooldown (no reason recorded)". Reasons are verbatim. "" when none.
func (p ProfileStatus) WindowText() string {
	if p.Until.IsZero() && p.Window == "" && p.Reason == "" {
		return ""
	}
	kind := p.Window
	if kind == "" {
		kind = p.Health
	}
	r := p.Reason
	if r == "" {
		r = "(no reason recorded)"
	}
	s := kind + " " + r
	if p.Model != "" {
		s += " on " + p.Model
	}
	return s
}

func indent(s, pad string) string {
	return strings.ReplaceAll(s, "\n", "\n"+pad)
}
