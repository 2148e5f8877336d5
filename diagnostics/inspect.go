package diagnostics

import (
	"context"
	"errors"
	"fmt"
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
	in := &Input{Snap: snap, Now: now(), PreviousVersion: prevVersion}
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
		} else {
			in.Checks = i.Checker.CheckMany(ctx, base, creds)
		}
	}
	return Diagnose(t.Name, in), snap, nil
}
