package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// Target is one install to inspect, as resolved from flags and config.
type Target struct {
	Name   string
	Locate openclaw.LocateOptions
	Env    openclaw.EnvSources
	// BaseURLFlag and BaseURLTarget are the --anthropic-base-url flag and
	// the target's anthropic_base_url; BaseURLDefault is anthropic.base_url.
	BaseURLFlag, BaseURLTarget, BaseURLDefault string
}

// Inspector reads an install and diagnoses it; with a Checker it also runs
// the zero-token key check on every Anthropic credential.
type Inspector struct {
	Checker *Checker // nil: no network at all
	// CachedOnly uses the Checker's last conclusive verdicts without
	// sending anything (serve's frequent snapshots between key checks).
	CachedOnly bool
	Now        func() time.Time
	// ReadTimeout bounds the read of the install (0:
	// openclaw.DefaultReadTimeout). A read past it is abandoned and
	// diagnosed as state.unreadable ("timed out reading …").
	ReadTimeout time.Duration
	// CheckNew, with CachedOnly, still checks a credential that has no
	// verdict yet while its profile is in a cooldown or disabled window: a
	// key pasted after a failure is judged at once, not at the next
	// scheduled key check (cooldown.stale).
	CheckNew bool
	// Memory, when set, learns from the snapshot (Observe) and lends its
	// evidence to the rules (serve: one per target).
	Memory *SecretMemory
	// SecretChanges is evidence to use when there is no Memory (a chat
	// report borrowing serve's).
	SecretChanges map[string]SecretChange
}

// Inspect locates and reads the target, optionally checks its keys, and
// returns the report and the snapshot it was made from. An error means the
// target could not be evaluated at all (exit code 3).
func (i *Inspector) Inspect(ctx context.Context, t Target, prevVersion string) (Report, *openclaw.Snapshot, error) {
	now := time.Now
	if i.Now != nil {
		now = i.Now
	}
	loc, err := openclaw.Locate(t.Locate)
	if err != nil {
		return Report{}, nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	snap, err := openclaw.ReadSnapshotWithin(ctx, loc, openclaw.ReadOptions{Env: t.Env, Now: now}, i.ReadTimeout)
	if hung := (*openclaw.HungError)(nil); errors.As(err, &hung) {
		err = nil // snap says so: state.unreadable
	}
	if err != nil {
		return Report{}, nil, fmt.Errorf("target %s: read %s: %w", t.Name, loc.StateDir, err)
	}
	in := &Input{Snap: snap, Now: now(), PreviousVersion: prevVersion, SecretChanges: i.SecretChanges}
	if i.Memory != nil {
		i.Memory.Observe(snap)
		in.SecretChanges = i.Memory.Changes()
	}
	if i.Checker != nil {
		install := ""
		if snap.Config != nil {
			install = snap.Config.AnthropicBaseURL
		}
		base, err := ResolveBaseURL(t.BaseURLFlag, t.BaseURLTarget, install, t.BaseURLDefault)
		if err != nil {
			return Report{}, snap, fmt.Errorf("target %s: %w", t.Name, err)
		}
		in.prepare()
		var creds []openclaw.Credential
		for _, k := range in.anthropicKeys() {
			if !k.Cred.Secret.IsZero() {
				creds = append(creds, k.Cred)
			}
		}
		if i.CachedOnly {
			in.Checks = map[string]KeyCheck{}
			for _, c := range creds {
				if v, ok := i.Checker.LastVerdict(base, c.Secret.Fingerprint()); ok {
					in.Checks[v.Fingerprint] = v
				}
			}
			if i.CheckNew {
				var fresh []openclaw.Credential
				for _, k := range in.anthropicKeys() {
					if _, seen := in.Checks[k.Fingerprint()]; seen || k.Cred.Secret.IsZero() || k.Store == nil {
						continue
					}
					if _, active := in.usage(k).Active(in.Now); active {
						fresh = append(fresh, k.Cred)
					}
				}
				if len(fresh) > 0 {
					maps.Copy(in.Checks, i.Checker.CheckMany(ctx, base, fresh))
				}
			}
		} else {
			in.Checks = i.Checker.CheckMany(ctx, base, creds)
		}
	}
	return Diagnose(t.Name, in), snap, nil
}
