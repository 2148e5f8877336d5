package diagnostics

import (
	"fmt"

	"github.com/openclaw-bot/openclaw-bot/internal/text"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// ruleVersionKnownBug: OpenClaw behaviours measured to hurt, when the
// install is in the state where they bite.
var ruleVersionKnownBug = Rule{Name: CodeVersionKnownBug, Check: func(in *Input) []Finding {
	var out []Finding
	v := in.Snap.Version
	if v == "" {
		return nil
	}
	if in.legacyVersion() {
		if in.anyWindow() {
			out = append(out, Finding{
				Code: CodeVersionKnownBug, Severity: Warning, Subject: "openclaw " + v,
				Title:    "`openclaw models status --check` exits 0 during a cooldown on this version",
				Evidence: fmt.Sprintf("OpenClaw %s (2026.3.x) does not count cooldowns in --check; monitoring built on it misses this outage.", v),
				Remedy:   []string{"Rely on `openclaw-bot status` (exit 1 on a cooldown), or upgrade OpenClaw."},
			})
		}
		return out
	}
	if !openclaw.VersionLess(v, "2026.9.6") || v == "2026.9.6" {
		for _, k := range in.anthropicKeys() {
			if k.Cred.Type != "oauth" || k.Cred.Fence != "" || k.Cred.Expires.IsZero() || k.Cred.Expires.Sub(in.Now) > expiringWindow {
				continue
			}
			out = append(out, Finding{
				Code: CodeVersionKnownBug, Severity: Warning, Subject: subject(k),
				Title:    "Plain-text `openclaw models status` can destroy this OAuth login",
				Evidence: fmt.Sprintf("OpenClaw %s refreshes expired or expiring OAuth logins when `models status` runs without --json; when that refresh fails, the refresh token is replaced by a fence and the login is gone. %s expires %s.", v, k.ID, text.Relative(k.Cred.Expires, in.Now, "")),
				Remedy:   []string{"Use `" + in.cmd.run("", "models status --json") + "` or `openclaw-bot status` only, until " + k.ID + " is re-authenticated."},
			})
		}
	}
	return out
}}

func (in *Input) anyWindow() bool {
	for _, k := range in.windowKeys() {
		if _, ok := in.usage(k).Active(in.Now); ok {
			return true
		}
	}
	return false
}

// ruleVersionChanged: the install's OpenClaw version differs from the one
// seen before; upgrades change auth behaviour.
var ruleVersionChanged = Rule{Name: CodeVersionChanged, Check: func(in *Input) []Finding {
	prev, cur := in.PreviousVersion, in.Snap.Version
	if prev == "" || cur == "" || prev == cur {
		return nil
	}
	return []Finding{{
		Code: CodeVersionChanged, Severity: Info, Subject: "openclaw",
		Title:    fmt.Sprintf("OpenClaw changed from %s to %s", prev, cur),
		Evidence: fmt.Sprintf("meta.lastTouchedVersion of %s is now %s (was %s). Storage, cooldown rules and error texts differ between releases.", in.Snap.Location.ConfigPath, cur, prev),
		Remedy:   []string{"Re-run `openclaw-bot diagnose` after the upgrade settles; a 2026.3.x → 2026.4+ upgrade needs `" + in.cmd.run("", "doctor --fix --non-interactive --yes") + "` to migrate JSON credentials."},
	}}
}}
