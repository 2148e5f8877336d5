package scheduler

// rotation.go — what serve does about cooldown.stale: it remembers each
// stored credential's fingerprint across snapshots (diagnostics.SecretMemory,
// persisted in the store's kv table, never a secret), which lets the rule
// prove that a key changed after a failure on any OpenClaw release; and,
// with recovery.reset_after_rotation, it resets such a window itself,
// through the same path as a confirmed chat reset, once per window.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// AutoResetActor is who the audit row and the announcement of a reset after
// rotation name.
const AutoResetActor = "openclaw-bot (reset_after_rotation)"

// AutoResetRequest is one reset the bot decided itself.
type AutoResetRequest struct {
	Target string
	// Profiles are the profile ids whose windows are stale.
	Profiles []string
	// State is their usage state as the evaluation saw it: the reset
	// changes nothing unless it still is (like a Confirm and its preview).
	State openclaw.Windows
	// Verdict and Findings are the evaluation's (the audit's "before").
	Verdict  string
	Findings []diagnostics.Finding
	// Why is one line per profile: the cooldown.stale titles.
	Why []string
	// keys are the once-per-window markers to write when it ran.
	keys []string
}

func memoryKey(target string) string { return "secrets:" + target }

// memory is the target's SecretMemory, loaded from the store at first use.
// Called under the target's lock.
func (s *Service) memory(ctx context.Context, target string) (*diagnostics.SecretMemory, error) {
	if m, ok := s.memories.Load(target); ok {
		return m.(*diagnostics.SecretMemory), nil
	}
	data, _, err := s.Store.Get(ctx, memoryKey(target))
	if err != nil {
		return nil, err
	}
	m := diagnostics.LoadSecretMemory(data)
	s.memories.Store(target, m)
	return m, nil
}

// autoResetKey marks that the window of profile (in agent's store) ending
// at until was reset after rotation: an active window is never moved by
// OpenClaw, so its end names it.
func autoResetKey(target, subject string, f diagnostics.Finding) string {
	return fmt.Sprintf("autoreset:%s:%s:%d", target, subject, f.Until.UnixMilli())
}

// staleResets returns the reset to do for the target's cooldown.stale
// findings (at most one request, for every such profile), when
// ResetAfterRotation is on and a window was not reset before.
func (s *Service) staleResets(ctx context.Context, target string, rep diagnostics.Report, kv map[string]string) ([]AutoResetRequest, error) {
	if !s.ResetAfterRotation || s.AutoReset == nil {
		return nil, nil
	}
	req := AutoResetRequest{Target: target, Verdict: rep.Verdict, Findings: rep.Findings}
	for _, f := range rep.Findings {
		if f.Code != diagnostics.CodeCooldownStale {
			continue
		}
		key := autoResetKey(target, f.Subject, f)
		_, done, err := s.Store.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		if done {
			continue
		}
		id, _ := diagnostics.SubjectProfile(f.Subject)
		if !slices.Contains(req.Profiles, id) {
			req.Profiles = append(req.Profiles, id)
		}
		req.Why = append(req.Why, f.Title)
		req.keys = append(req.keys, key)
	}
	if len(req.Profiles) == 0 {
		return nil, nil
	}
	req.State = rep.Windows.Of(req.Profiles)
	return []AutoResetRequest{req}, nil
}

// autoReset runs the resets, marks their windows done and announces each
// on every route that takes the target. A reset that did not start (busy,
// or the state moved since the evaluation) is left for the next one.
func (s *Service) autoReset(ctx context.Context, target string, reqs []AutoResetRequest) {
	for _, req := range reqs {
		log := s.Log.With().Str("target", target).Strs("profiles", req.Profiles).Logger()
		msg, err := s.AutoReset(ctx, req)
		if err != nil {
			log.Info().Err(err).Msg("reset after rotation not started; the next evaluation decides again")
			continue
		}
		now := s.now()
		msg.Ref = fmt.Sprintf("autoreset:%s:%d", target, now.UnixMilli())
		msg.Target = target
		batch := store.Batch{KV: map[string]string{}}
		for _, k := range req.keys {
			batch.KV[k] = now.UTC().Format("2006-01-02T15:04:05Z")
		}
		payload, err := json.Marshal(msg)
		if err != nil {
			log.Error().Err(err).Msg("render the reset announcement")
			continue
		}
		for _, r := range s.Routes {
			if len(r.Targets) > 0 && !slices.Contains(r.Targets, target) {
				continue
			}
			batch.Outbox = append(batch.Outbox, store.OutboxItem{Channel: r.Notifier.Name(), Dest: r.Dest, Ref: msg.Ref,
				Kind: store.KindPost, Payload: payload, NextAttempt: now, CreatedAt: now})
		}
		if err := s.Store.Apply(ctx, batch); err != nil {
			log.Error().Err(err).Msg("record the reset after rotation")
			continue
		}
		log.Info().Str("title", msg.Title).Msg("reset after rotation: " + strings.Join(req.Why, "; "))
		if len(batch.Outbox) > 0 {
			select {
			case s.kick <- struct{}{}:
			default:
			}
		}
	}
}
