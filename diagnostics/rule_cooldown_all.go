package diagnostics

import (
	"fmt"
	"strings"
	"time"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// ruleCooldownAll: every stored profile of Anthropic is unusable right now
// and no env key can stand in, so every Anthropic request fails.
var ruleCooldownAll = Rule{Name: CodeCooldownAll, Check: func(in *Input) []Finding {
	var stored, unusable []string
	var soonest time.Time
	envUsable := false
	for _, k := range in.anthropicKeys() {
		if k.Source == SourceEnv {
			// Env keys get no cooldown; but only if no stored profile
			// exists would OpenClaw use them (profile-first).
			envUsable = envUsable || !k.Shadowed
			continue
		}
		stored = append(stored, k.ID)
		if w, ok := in.usage(k).Active(in.Now); ok && (w.Model == "" || in.onlyRouted(w.Model)) {
			what := fmt.Sprintf("%s (%s:%s until %s", k.ID, w.Kind, reasonValue(w.Reason), w.Until.UTC().Format(time.RFC3339))
			if w.Model != "" {
				what += ", for " + w.Model + ", the only Anthropic model the config routes to"
			}
			unusable = append(unusable, what+")")
			if soonest.IsZero() || w.Until.Before(soonest) {
				soonest = w.Until
			}
		}
	}
	if len(stored) == 0 || len(unusable) < len(stored) || envUsable || in.anthropicOnClaude() {
		// Models that all run through Claude Code do not use these
		// profiles: their windows stop nothing (cooldown.active still
		// reports each).
		return nil
	}
	msg := "All models failed: Provider anthropic has auth issue (skipping all models)"
	if in.legacyVersion() {
		msg = "No available auth profile for anthropic (all in cooldown or unavailable)."
	}
	return []Finding{{
		Code: CodeCooldownAll, Severity: Critical, Subject: "anthropic",
		Title:    "Every Anthropic profile is unusable: the assistant cannot answer until " + when(soonest, in.Now),
		Evidence: "Unusable: " + strings.Join(unusable, ", ") + ". Users see e.g. \"" + msg + "\".",
		Remedy: []string{
			"Fix the cause of each window (see the cooldown/disabled findings), or add a second profile so one failure does not stop everything: " + in.cmd.pasteKey("", "anthropic:backup"),
		},
		Until: soonest,
	}}
}}

func windowOf(until time.Time, reason string) openclaw.Window {
	return openclaw.Window{Kind: "disabled", Reason: reason, Until: until}
}

// onlyRouted says whether model is every Anthropic model the config routes
// to (primary, fallbacks, agents' models), so that a window scoped to it
// stops Anthropic entirely. With no model configured the release's built-in
// default is the one that failed, and the window covers it.
func (in *Input) onlyRouted(model string) bool {
	var routed []string
	for _, m := range in.Snap.Config.Models() {
		if p, name, ok := strings.Cut(m, "/"); ok && p == "anthropic" {
			routed = append(routed, name)
		} else if !ok {
			routed = append(routed, m)
		}
	}
	for _, m := range routed {
		if m != model {
			return false
		}
	}
	return true
}
