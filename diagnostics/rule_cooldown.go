package diagnostics

import (
	"fmt"
	"strings"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/text"
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

// windowFinding describes an active cooldown/disabled/blocked window of a
// key: every stored field of that window verbatim (reasons the bot has
// never seen included), what it really covers, and what to do.
func (in *Input) windowFinding(k keyRef, w openclaw.Window, code string) Finding {
	u := in.usage(k)
	ev := fmt.Sprintf("usageStats[%s] in %s: %s; %s; errorCount=%d%s.",
		k.ID, k.Store.StateFile(), storedWindow(w.Kind, u, in.Now), in.windowScope(w, u), u.ErrorCount, failureCounts(u))
	if !u.LastFailureAt.IsZero() {
		ev += " Last failure " + text.Relative(u.LastFailureAt, in.Now, "") + "."
	}
	if why := in.staleUnknown(k, w); why != "" {
		ev += " " + why
	}
	if note := in.unknownReasonNote(w); note != "" {
		ev += " " + note
	}
	title := fmt.Sprintf("%s is in cooldown (%s) until %s", k.ID, reasonTitle(w.Reason, u), when(w.Until, in.Now))
	switch w.Kind {
	case openclaw.WindowDisabled:
		title = fmt.Sprintf("%s is disabled (%s) until %s", k.ID, reasonTitle(w.Reason, u), when(w.Until, in.Now))
	case openclaw.WindowBlocked:
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

// storedWindow lists the stored fields of a window kind verbatim.
func storedWindow(kind string, u openclaw.UsageStats, now time.Time) string {
	var f []string
	add := func(name, v string) {
		if v != "" {
			f = append(f, name+"="+v)
		}
	}
	switch kind {
	case openclaw.WindowDisabled:
		add("disabledReason", reasonValue(u.DisabledReason))
		add("disabledUntil", when(u.DisabledUntil, now))
	case openclaw.WindowBlocked:
		add("blockedReason", reasonValue(u.BlockedReason))
		add("blockedSource", u.BlockedSource)
		add("blockedModel", u.BlockedModel)
		add("blockedScope", u.BlockedScope)
		add("blockedUntil", when(u.BlockedUntil, now))
	default:
		add("cooldownReason", reasonValue(u.CooldownReason))
		add("cooldownModel", u.CooldownModel)
		add("cooldownClassification", u.CooldownClassification)
		add("cooldownUntil", when(u.CooldownUntil, now))
	}
	return strings.Join(f, ", ")
}

// windowScope says which models a window makes unusable, and why when a
// stored model does not limit it.
func (in *Input) windowScope(w openclaw.Window, u openclaw.UsageStats) string {
	if w.Model != "" {
		return "for model " + w.Model + " only (other models of the provider stay usable)"
	}
	switch {
	case w.Kind == openclaw.WindowCooldown && u.CooldownModel != "":
		return fmt.Sprintf("for every model: OpenClaw limits a cooldown to its cooldownModel only for rate_limit, timeout and model_not_found, not for %s", reasonValue(w.Reason))
	case w.Kind == openclaw.WindowBlocked && u.BlockedModel != "":
		return `for every model: without blockedScope "model" OpenClaw (2026.5–7.x always) blocks the whole profile, whatever blockedModel says`
	}
	return "for every model"
}

// knownReasons are the failure reasons 2026.5+ keep when they read the
// state (AUTH_FAILURE_REASONS); AUTH_BLOCKED_REASONS for blocked windows.
var (
	knownReasons        = []string{"auth", "auth_permanent", "format", "overloaded", "rate_limit", "billing", "timeout", "model_not_found", "session_expired", "empty_response", "no_error_details", "unclassified", "unknown"}
	knownBlockedReasons = []string{"subscription_limit"}
)

// unknownReasonNote: a reason the releases do not know is shown as stored;
// 2026.5+ drop it when they read the state and keep the window without one.
func (in *Input) unknownReasonNote(w openclaw.Window) string {
	known := knownReasons
	if w.Kind == openclaw.WindowBlocked {
		known = knownBlockedReasons
	}
	if w.Reason == "" || contains(known, w.Reason) {
		return ""
	}
	if v := in.Snap.Version; v != "" && openclaw.VersionLess(v, "2026.5.0") {
		return fmt.Sprintf("The reason %q is not one OpenClaw knows; shown as stored.", w.Reason)
	}
	return fmt.Sprintf("The reason %q is not one OpenClaw knows; shown as stored. OpenClaw %s drops unknown reasons when it reads the state and keeps the window without one: it still makes the profile unusable until it ends.", w.Reason, in.versionText())
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
		if subscription(k) {
			r = append(r, subscriptionBillingRemedy(in, k)...)
			break
		}
		r = append(r, "Top up credits in the Anthropic console (Plans & Billing) or switch to a key of another organisation: "+in.cmd.pasteKey(k.Agent, k.ID))
		r = append(r, "The bot cannot verify billing without spending tokens: after topping up, the next real request tells.")
	case w.Reason == "subscription_limit":
		r = append(r, "The subscription's usage limit is reached; the window ends at the reset time the provider reported ("+when(w.Until, in.Now)+"). "+
			"A cooldown reset does not lift the limit: the next request is refused and blocks the profile again.")
		r = append(r, "Wait for the reset, or serve these models from a key that is billed per use: "+in.cmd.pasteKey(k.Agent, "anthropic:api"))
	case w.Reason == "rate_limit" || w.Reason == "overloaded" || w.Reason == "timeout":
		r = append(r, "A transient "+w.Reason+" window: it ends by itself at "+when(w.Until, in.Now)+". Lower concurrency or add a fallback profile if it recurs.")
	case w.Reason == "format":
		r = append(r, "It ends by itself at "+when(w.Until, in.Now)+"; look at the gateway log (/tmp/openclaw/openclaw-YYYY-MM-DD.log) for the failure that caused it.")
		if v := in.Snap.Version; subscription(k) && v != "" && openclaw.VersionLess(v, "2026.4.0") && !openclaw.VersionLess(v, "2026.2.0") {
			// 2026.2–3.x classify any 400 without a billing text as format,
			// and their billing patterns lack the extra-usage texts.
			r = append(r, "On a subscription login one possible cause is Anthropic's \"extra usage\" error (e.g. \"extra usage is required for long context requests\"), which OpenClaw "+v+" records as format when it comes as a 400: if the log shows it, enable extra usage for the Claude account or use an API key.")
		}
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
