package diagnostics

import (
	"fmt"
	"strings"
	"time"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// ruleCooldownStale reports a cooldown or disable that began before the
// profile's current secret was stored, when the zero-token check accepts
// that secret: OpenClaw's paste-api-key and paste-token keep the window
// (measured up to 2026.9.6; its interactive login resets it), and so does a
// gateway restart, so after every re-login OpenClaw goes on skipping a
// profile whose key works. Only windows about the credential qualify (auth,
// auth_permanent, billing, or none recorded): a rate_limit, overloaded or
// timeout window is not the key's fault and ends by itself.
//
// "The secret changed after the window began" needs evidence, never a
// guess: the store's own write time (SQLite generations, a store holding
// this profile only: CredentialsAt after lastFailureAt) or what serve saw
// itself (SecretMemory: the previous secret still in place after the
// failure). Where neither can tell, cooldown.active says so.
var ruleCooldownStale = Rule{Name: CodeCooldownStale, Check: func(in *Input) []Finding {
	var out []Finding
	for _, k := range in.windowKeys() {
		st, ok := in.stale(k)
		if !ok {
			continue
		}
		u := in.usage(k)
		what := st.w.Kind
		if what == "blocked" {
			what = "block"
		}
		ev := fmt.Sprintf("usageStats[%s] in %s: %s (%s) since the failure at %s, until %s. The current %s (%s) was stored after that: %s. "+
			"Zero-token check GET %s/v1/models at %s: accepted.",
			k.ID, k.Store.StateFile(), st.w.Kind, reasonValue(st.w.Reason), u.LastFailureAt.UTC().Format(time.RFC3339), when(st.w.Until, in.Now),
			kind(k.Cred.Type), k.Cred.Secret.Masked(), st.change.How, st.check.BaseURL, st.check.CheckedAt.UTC().Format(time.RFC3339))
		ev += " Replacing a key keeps the window (paste-api-key and paste-token, measured), and restarting the gateway reloads it: OpenClaw skips this profile until then although its key works."
		rem := []string{
			"Reset the " + what + ": `cooldown reset " + k.ID + "` in chat (or the Reset cooldown button; it clears only the window and the failure counters, after a backup, and can be undone), " +
				"or let serve do it after every re-login: `recovery.reset_after_rotation: true` in the bot's config.",
			"Without the bot: `" + in.cmd.run(k.Agent, "models auth logout", shellQuote(k.ID), "--yes") + "`, then store the key again (" + in.cmd.pasteKey(k.Agent, k.ID) + "); logout removes the profile's usage state.",
		}
		if st.w.Reason == "billing" {
			rem = append(rem, "This window is a billing disable: the zero-token check cannot see billing. If the new key belongs to an organisation without credits, the next request disables it again.")
		}
		out = append(out, Finding{
			Code: CodeCooldownStale, Severity: Critical, Subject: subject(k),
			Title:    fmt.Sprintf("%s: the %s (%s) predates its current key, which Anthropic accepts; a reset clears it", k.ID, what, reasonValue(st.w.Reason)),
			Evidence: ev, Remedy: rem, Until: st.w.Until,
		})
	}
	return out
}}

// staleness is why a window is stale.
type staleness struct {
	w      openclaw.Window
	change SecretChange
	check  KeyCheck
}

// stale says whether k's active window began before its current secret was
// stored, with the zero-token check accepting that secret.
func (in *Input) stale(k keyRef) (staleness, bool) {
	if k.Source != SourceStore || k.Store == nil {
		return staleness{}, false
	}
	u := in.usage(k)
	w, ok := u.Active(in.Now)
	if !ok || !credentialWindow(w, u) || u.LastFailureAt.IsZero() {
		return staleness{}, false
	}
	c, ok := in.check(k)
	if !ok || c.Status != StatusAccepted {
		return staleness{}, false
	}
	for _, ch := range in.secretChanges(k) {
		if !ch.After.Before(u.LastFailureAt) {
			return staleness{w: w, change: ch, check: c}, true
		}
	}
	return staleness{}, false
}

// credentialWindow: the window is about the credential (so a working new
// one makes it stale), not a transient condition of the provider.
func credentialWindow(w openclaw.Window, u openclaw.UsageStats) bool {
	if w.Model != "" {
		return false // model-scoped: rate_limit, timeout, model_not_found
	}
	switch w.Reason {
	case "auth", "auth_permanent", "billing":
		return true
	case "":
		// Releases before 2026.3 record no reason; the failure counts
		// (when there are any) must all be about the credential.
		for r := range u.FailureCounts {
			if r != "auth" && r != "auth_permanent" && r != "billing" {
				return false
			}
		}
		return true
	}
	return false
}

// SecretChange is evidence that a credential's current secret was stored
// after some instant.
type SecretChange struct {
	// After: the current secret was stored after this instant.
	After time.Time `json:"after"`
	// How says where that is known from (one sentence, no secret).
	How string `json:"how"`
}

// SecretKey identifies a stored credential in SecretChanges and
// SecretMemory: the agent whose own store holds it ("" for the shared
// store) and the profile id.
func SecretKey(agent, profile string) string { return agent + "/" + profile }

// credentialsWriteSlack: a credential row written within this time after a
// failure is taken for part of the failure's own bookkeeping, not for a new
// secret (the JSON generations rewrite auth-profiles.json 1 ms after each
// failure; the SQLite ones were not seen to, but a fenced OAuth login is
// written as it fails).
const credentialsWriteSlack = time.Second

// secretChanges lists the evidence about when k's current secret was
// stored: the store's credential row write time, when that store holds k's
// profile only, and what serve saw itself.
func (in *Input) secretChanges(k keyRef) []SecretChange {
	owner, agent := k.Store, k.Agent
	if k.Inherited {
		owner, agent = in.Snap.Shared, ""
	}
	var out []SecretChange
	if owner != nil && !owner.CredentialsAt.IsZero() && len(owner.Profiles) == 1 {
		out = append(out, SecretChange{After: owner.CredentialsAt.Add(-credentialsWriteSlack),
			How: fmt.Sprintf("OpenClaw last wrote the credentials of %s at %s", owner.Path, owner.CredentialsAt.UTC().Format(time.RFC3339))})
	}
	if ch, ok := in.SecretChanges[SecretKey(agent, k.ID)]; ok {
		out = append(out, ch)
	}
	return out
}

// staleUnknown says why, for a window whose current key the zero-token
// check accepts but that is not found stale, the bot cannot tell whether
// the key was stored after the window began ("" when it can tell, or the
// question does not arise).
func (in *Input) staleUnknown(k keyRef, w openclaw.Window) string {
	u := in.usage(k)
	if k.Source != SourceStore || k.Store == nil || !credentialWindow(w, u) {
		return ""
	}
	if c, ok := in.check(k); !ok || c.Status != StatusAccepted {
		return ""
	}
	if _, ok := in.stale(k); ok {
		return ""
	}
	if len(in.secretChanges(k)) > 0 && !u.LastFailureAt.IsZero() {
		return "" // known: the key is older than the window
	}
	owner := k.Store
	if k.Inherited {
		owner = in.Snap.Shared
	}
	why := "OpenClaw did not record when the window began (no lastFailureAt)"
	switch {
	case u.LastFailureAt.IsZero():
	case owner == nil || owner.CredentialsAt.IsZero():
		why = "OpenClaw " + in.versionText() + " keeps credentials in JSON files that it rewrites at every failure, so their time proves nothing"
	default:
		why = fmt.Sprintf("%s holds %d profiles and its write time does not say whose secret changed", owner.Path, len(owner.Profiles))
	}
	return "The zero-token check accepts the current key, but whether it was stored after this window began cannot be told: " + why +
		" (serve tells when it saw the key change). If you replaced the key since, a reset clears the window."
}

// SubjectProfile splits a finding subject ("anthropic:default" or
// "anthropic:work (agent ops)") into the profile id and the agent.
func SubjectProfile(subject string) (profile, agent string) {
	if id, rest, ok := strings.Cut(subject, " (agent "); ok && strings.HasSuffix(rest, ")") {
		return id, strings.TrimSuffix(rest, ")")
	}
	return subject, ""
}
