package diagnostics

import (
	"time"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// Profile health values, worst first (CONTRACT.md).
var healthOrder = []string{"missing", "invalid", "forbidden", "refresh_failed", "expired", "disabled", "cooldown", "expiring", "unverified", "ok"}

// Report is the `status --json` document for one install.
type Report struct {
	Target   string          `json:"target"`
	OpenClaw OpenClawInfo    `json:"openclaw"`
	Verdict  string          `json:"verdict"`
	Profiles []ProfileStatus `json:"profiles"`
	Findings []Finding       `json:"findings"`
	// CheckedAt is when the snapshot was taken.
	CheckedAt time.Time `json:"checked_at"`
	// Probed says whether the zero-token key check ran.
	Probed bool `json:"probed"`
	// Windows is every profile's usage state as read (openclaw
	// Snapshot.Windows at the report's time): what a chat preview shows and
	// its Confirm compares. Not part of the JSON.
	Windows openclaw.Windows `json:"-"`
	// Source is set on a report another fleet instance made and published
	// (nil: made by this process).
	Source *ReportSource `json:"source,omitempty"`
}

// ReportSource is where a published report came from.
type ReportSource struct {
	// Instance is the fleet instance that owns the target and made it.
	Instance string `json:"instance"`
	// PublishedAt is when it was published; Age how old it was when read.
	PublishedAt time.Time     `json:"published_at"`
	Age         time.Duration `json:"age_ns"`
	// OwnerSilentSince: the owner missed its heartbeats since then (zero:
	// alive). The report is its last word; the target is not watched.
	OwnerSilentSince time.Time `json:"owner_silent_since,omitzero"`
}

// OpenClawInfo identifies the install.
type OpenClawInfo struct {
	Version  string `json:"version"`
	StateDir string `json:"state_dir"`
	Layout   string `json:"layout"` // sqlite | legacy-json (the contract's two values)
	// Generation names where exactly the release keeps its auth state:
	// json-inline, json-split, agent-sqlite or state-sqlite.
	Generation string `json:"generation"`
}

// LayoutText is the layout with its generation, e.g. "legacy-json
// (json-split)", for people.
func (o OpenClawInfo) LayoutText() string {
	if o.Generation == "" {
		return o.Layout
	}
	return o.Layout + " (" + o.Generation + ")"
}

// ProfileStatus is one credential's line in the report.
type ProfileStatus struct {
	ID       string    `json:"id"`
	Provider string    `json:"provider"`
	Type     string    `json:"type"`
	Source   string    `json:"source"`
	Secret   string    `json:"secret"` // masked like OpenClaw does
	Health   string    `json:"health"`
	Reason   string    `json:"reason,omitempty"`
	Model    string    `json:"model,omitempty"`
	Until    time.Time `json:"until,omitzero"`
	Agent    string    `json:"agent,omitempty"`
	Check    string    `json:"check,omitempty"` // last zero-token check status
	Expires  time.Time `json:"expires,omitzero"`
	Shadowed bool      `json:"shadowed,omitempty"`
	// Window is the kind of the window behind health cooldown/disabled:
	// cooldown, disabled or blocked (a subscription block window).
	Window string `json:"window,omitempty"`
	// Location says where a credential kept outside the state dir lives
	// and whose it is (Claude Code's login of the gateway's user).
	Location string `json:"location,omitempty"`
}

// Diagnose evaluates a snapshot into a report.
func Diagnose(target string, in *Input) Report {
	in.prepare()
	findings := Evaluate(in)
	r := Report{
		Target:    target,
		OpenClaw:  OpenClawInfo{Version: in.Snap.Version, StateDir: in.Snap.Location.StateDir, Layout: in.Snap.Layout, Generation: in.Snap.Generation},
		Verdict:   Verdict(findings),
		Profiles:  []ProfileStatus{},
		Findings:  findings,
		CheckedAt: in.Snap.TakenAt,
		Probed:    len(in.Checks) > 0,
		Windows:   in.Snap.Windows(in.Now),
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	for _, k := range in.keys {
		r.Profiles = append(r.Profiles, in.profileStatus(k))
	}
	return r
}

// ExitCode of the report (0 ok, 1 critical, 2 warnings).
func (r Report) ExitCode() int { return ExitCode(r.Findings) }

func (in *Input) profileStatus(k keyRef) ProfileStatus {
	p := ProfileStatus{
		ID: k.ID, Provider: k.Cred.Provider, Type: k.Cred.Type, Source: k.Source,
		Secret: k.Cred.Secret.Masked(), Agent: k.Agent, Expires: k.Cred.Expires, Shadowed: k.Shadowed,
	}
	if p.Type == "" {
		p.Type = "unknown"
	}
	if k.Cred.Fence != "" {
		// A refresh fence is not a credential: say what it is.
		p.Secret, p.Expires = "refresh-fence:"+k.Cred.Fence, time.Time{}
	}
	if k.Claude != nil {
		p.Location = claudeWhere(k.Claude)
		if k.Store == nil {
			return in.claudeStatus(k, p)
		}
	}
	if c, ok := in.check(k); ok {
		p.Check = string(c.Status)
	}
	health := []string{}
	add := func(h string) { health = append(health, h) }

	c := k.Cred
	if c.Secret.IsZero() && c.Fence == "" {
		add("missing")
	}
	if k.Cred.Provider == "anthropic" && c.Type != "oauth" && !c.Secret.IsZero() && malformed(c.Type, openclaw.NormalizeSecret(c.Secret.Reveal())) != "" {
		add("invalid")
	}
	if ch, ok := in.check(k); ok {
		switch ch.Status {
		case StatusRejected:
			add("invalid")
		case StatusForbidden:
			add("forbidden")
		}
	}
	if c.Fence == openclaw.FenceFailed || c.Fence == openclaw.FenceMalformed {
		add("refresh_failed")
	}
	if c.Fence == openclaw.FencePending || c.ExpiresInvalid || (!c.Expires.IsZero() && !in.Now.Before(c.Expires)) {
		add("expired")
	}
	if w, ok := in.usage(k).Active(in.Now); ok {
		p.Reason, p.Model, p.Until, p.Window = w.Reason, w.Model, w.Until, w.Kind
		if w.Kind == openclaw.WindowDisabled {
			add("disabled")
		} else {
			add("cooldown")
		}
	}
	if !c.Expires.IsZero() && in.Now.Before(c.Expires) && c.Expires.Sub(in.Now) <= expiringWindow {
		add("expiring")
	}
	if c.Type == openclaw.TypeAPIKey {
		if ch, ok := in.check(k); !ok || ch.Status != StatusAccepted {
			add("unverified")
		}
	}
	add("ok")
	p.Health = worst(health)
	return p
}

// claudeStatus is the line of Claude Code's own login: health from what the
// bot could read of it (its expiry), "unverified" when it could not.
func (in *Input) claudeStatus(k keyRef, p ProfileStatus) ProfileStatus {
	l := k.Claude
	p.Secret, p.Expires = "", time.Time{}
	if p.Type == "unknown" {
		p.Type = "claude-code"
	}
	switch l.State {
	case openclaw.ClaudeReadable:
		p.Health = "ok"
		if l.Type == openclaw.TypeToken {
			// No refresh token: its expiry is the login's end.
			p.Expires = l.Expires
			switch {
			case !in.Now.Before(l.Expires):
				p.Health = "expired"
			case l.Expires.Sub(in.Now) <= expiringWindow:
				p.Health = "expiring"
			}
		}
	case openclaw.ClaudeMissing, openclaw.ClaudeNoLogin:
		p.Health = "missing"
	default:
		p.Health = "unverified"
	}
	return p
}

func worst(hs []string) string {
	best := len(healthOrder) - 1
	for _, h := range hs {
		for i, o := range healthOrder {
			if o == h && i < best {
				best = i
			}
		}
	}
	return healthOrder[best]
}

// NoProfiles is what a report without credentials says instead of listing
// them: nothing found is not the same as nothing readable.
func (r Report) NoProfiles() string {
	for _, f := range r.Findings {
		switch f.Code {
		case CodeInstallMissing:
			return "No credentials: no install here."
		case CodeStateUnreadable:
			return "Credentials unknown: the state could not be read."
		}
	}
	return "No credentials."
}
