package diagnostics

import (
	"fmt"
	"strings"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// ruleCooldown reports every profile in an active cooldown (any reason,
// even one scoped to a single model) or a blocked window.
var ruleCooldown = Rule{Name: CodeCooldownActive, Check: func(in *Input) []Finding {
	var out []Finding
	for _, k := range in.windowKeys() {
		w, ok := in.usage(k).Active(in.Now)
		if !ok || w.Kind == "disabled" {
			continue
		}
		out = append(out, in.windowFinding(k, w, CodeCooldownActive))
	}
	return out
}}

// windowFinding describes an active cooldown/disabled window of a key.
func (in *Input) windowFinding(k keyRef, w openclaw.Window, code string) Finding {
	u := in.usage(k)
	scope := "every model"
	if w.Model != "" {
		scope = "model " + w.Model + " (other models of the provider stay usable)"
	}
	ev := fmt.Sprintf("usageStats[%s] in %s: %sReason=%s, until %s, for %s; errorCount=%d%s.",
		k.ID, k.Store.StateFile(), w.Kind, reasonValue(w.Reason), when(w.Until, in.Now), scope, u.ErrorCount, failureCounts(u))
	if !u.LastFailureAt.IsZero() {
		ev += " Last failure " + relative(u.LastFailureAt, in.Now) + "."
	}
	if why := in.staleUnknown(k, w); why != "" {
		ev += " " + why
	}
	title := fmt.Sprintf("%s is in cooldown (%s) until %s", k.ID, reasonTitle(w.Reason, u), when(w.Until, in.Now))
	switch w.Kind {
	case "disabled":
		title = fmt.Sprintf("%s is disabled (%s) until %s", k.ID, reasonTitle(w.Reason, u), when(w.Until, in.Now))
	case "blocked":
		title = fmt.Sprintf("%s is blocked (%s) until %s", k.ID, reasonTitle(w.Reason, u), when(w.Until, in.Now))
	}
	if w.Model != "" {
		title += " for " + w.Model
	}
	return Finding{
		Code: code, Severity: Critical, Subject: subject(k), Title: title,
		Evidence: ev, Remedy: in.windowRemedy(k, w), Until: w.Until,
	}
}

// reasonValue is a recorded reason verbatim, or "(none)": OpenClaw before
// 2026.3 writes cooldowns without one.
func reasonValue(r string) string {
	if r == "" {
		return "(none)"
	}
	return r
}

// reasonTitle is the reason for a title: verbatim, whatever it is; without
// one, what the failure counts say, marked as not recorded.
func reasonTitle(r string, u openclaw.UsageStats) string {
	if r != "" {
		return r
	}
	if len(u.FailureCounts) > 0 {
		return "no reason recorded; failures " + strings.TrimPrefix(failureCounts(u), ", failures ")
	}
	return "no reason recorded"
}

func failureCounts(u openclaw.UsageStats) string {
	if len(u.FailureCounts) == 0 {
		return ""
	}
	var parts []string
	for _, r := range sortedKeys(u.FailureCounts) {
		parts = append(parts, fmt.Sprintf("%s:%d", r, u.FailureCounts[r]))
	}
	return ", failures " + strings.Join(parts, " ")
}

// windowRemedy is what to do about a cooldown, by reason and version.
func (in *Input) windowRemedy(k keyRef, w openclaw.Window) []string {
	var r []string
	_, stale := in.stale(k)
	if stale {
		r = append(r, "This window predates the current key, which Anthropic accepts (cooldown.stale): a reset clears it — `cooldown reset "+k.ID+"` in chat.")
	}
	switch {
	case stale && (w.Reason == "auth" || w.Reason == "auth_permanent" || w.Reason == ""):
	case w.Reason == "auth" || w.Reason == "auth_permanent":
		r = append(r, "Anthropic rejected this credential. Replace it first, or the cooldown comes back at the next request:")
		r = append(r, in.replaceRemedy(k)...)
		if k.Cred.Type == "api_key" && !in.legacyVersion() {
			r = append(r, "paste-api-key keeps the cooldown (measured on 2026.9.6). To end it early after replacing the key: `"+
				in.cmd.run(k.Agent, "models auth logout", shellQuote(k.ID), "--yes")+"`, then run the paste command again.")
		}
	case w.Reason == "billing":
		r = append(r, "Top up credits in the Anthropic console (Plans & Billing) or switch to a key of another organisation: "+in.cmd.pasteKey(k.Agent, k.ID))
		r = append(r, "The bot cannot verify billing without spending tokens: after topping up, the next real request tells.")
	case w.Reason == "rate_limit" || w.Reason == "overloaded" || w.Reason == "timeout":
		r = append(r, "A transient "+w.Reason+" window: it ends by itself at "+when(w.Until, in.Now)+". Lower concurrency or add a fallback profile if it recurs.")
	default:
		r = append(r, "It ends by itself at "+when(w.Until, in.Now)+"; look at the gateway log (/tmp/openclaw/openclaw-YYYY-MM-DD.log) for the failure that caused it.")
	}
	if in.legacyVersion() {
		r = append(r, "This OpenClaw version keeps the window in "+k.Store.StateFile()+"; it is pruned when it expires.")
	} else {
		r = append(r, "Restarting the gateway does NOT clear it: OpenClaw "+in.versionText()+" persists cooldowns in "+k.Store.StateFile()+" and reloads them; OpenClaw has no command to clear one.")
	}
	return append(r, verifyRemedy())
}
