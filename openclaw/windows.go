package openclaw

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// ProfileWindow is what a confirmation preview shows of one profile's usage
// state in one store, and what Confirm compares: the window that makes the
// profile unusable at the time it was read (Kind "" when none), the stored
// cooldown/disabled/blocked fields behind it and the failure counters. It
// holds no secret.
type ProfileWindow struct {
	Profile string `json:"profile"`
	// Agent owns the store ("" = the shared store every agent inherits).
	Agent  string    `json:"agent,omitempty"`
	Kind   string    `json:"kind,omitempty"` // cooldown | disabled | blocked; "" = usable
	Reason string    `json:"reason,omitempty"`
	Model  string    `json:"model,omitempty"`
	Until  time.Time `json:"until,omitzero"`

	CooldownUntil  time.Time `json:"cooldown_until,omitzero"`
	CooldownReason string    `json:"cooldown_reason,omitempty"`
	CooldownModel  string    `json:"cooldown_model,omitempty"`
	DisabledUntil  time.Time `json:"disabled_until,omitzero"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	BlockedUntil   time.Time `json:"blocked_until,omitzero"`
	BlockedReason  string    `json:"blocked_reason,omitempty"`
	BlockedModel   string    `json:"blocked_model,omitempty"`
	// BlockedSource and BlockedScope decide with BlockedModel whether a
	// block spares the other models; empty ones leave the digest of
	// earlier previews unchanged.
	BlockedSource string         `json:"blocked_source,omitempty"`
	BlockedScope  string         `json:"blocked_scope,omitempty"`
	ErrorCount    int            `json:"error_count,omitempty"`
	FailureCounts map[string]int `json:"failure_counts,omitempty"`
}

// Windows are the ProfileWindows of an install, sorted by profile, then
// agent ("" first).
type Windows []ProfileWindow

// Windows returns, for each profile with a credential or usage state in a
// store (the shared one, then each agent's own), its ProfileWindow at now.
// The preview (over a diagnostics report) and the confirmed action (over
// the snapshot it plans from) both get their windows from here.
func (s *Snapshot) Windows(now time.Time) Windows {
	var out Windows
	add := func(st *AuthStore, agent string) {
		if st == nil {
			return
		}
		ids := map[string]bool{}
		for _, c := range st.Profiles {
			ids[c.ID] = true
		}
		for id := range st.State.Usage {
			ids[id] = true
		}
		for id := range ids {
			out = append(out, windowOf(id, agent, st.State.Usage[id], now))
		}
	}
	if s != nil {
		add(s.Shared, "")
		for _, a := range s.Agents {
			if a.Own != nil && a.Own != s.Shared {
				add(a.Own, a.ID)
			}
		}
	}
	slices.SortFunc(out, func(a, b ProfileWindow) int {
		if c := strings.Compare(a.Profile, b.Profile); c != 0 {
			return c
		}
		return strings.Compare(a.Agent, b.Agent)
	})
	return out
}

func windowOf(id, agent string, u UsageStats, now time.Time) ProfileWindow {
	ms := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.UTC().Truncate(time.Millisecond)
	}
	w := ProfileWindow{Profile: id, Agent: agent,
		CooldownUntil: ms(u.CooldownUntil), CooldownReason: u.CooldownReason, CooldownModel: u.CooldownModel,
		DisabledUntil: ms(u.DisabledUntil), DisabledReason: u.DisabledReason,
		BlockedUntil: ms(u.BlockedUntil), BlockedReason: u.BlockedReason, BlockedModel: u.BlockedModel,
		BlockedSource: u.BlockedSource, BlockedScope: u.BlockedScope,
		ErrorCount: u.ErrorCount}
	if len(u.FailureCounts) > 0 {
		w.FailureCounts = map[string]int{}
		for k, v := range u.FailureCounts {
			w.FailureCounts[k] = v
		}
	}
	if a, ok := u.Active(now); ok {
		w.Kind, w.Reason, w.Model, w.Until = a.Kind, a.Reason, a.Model, ms(a.Until)
	}
	return w
}

// Of returns the windows of the given profiles (every store's copy).
func (ws Windows) Of(profiles []string) Windows {
	out := Windows{}
	for _, w := range ws {
		if slices.Contains(profiles, w.Profile) {
			out = append(out, w)
		}
	}
	return out
}

// Digest is a short stable hash of the windows (hex). Equal digests mean
// the same windows, stored fields and counters.
func (ws Windows) Digest() string {
	if ws == nil {
		ws = Windows{}
	}
	b, _ := json.Marshal(ws) // maps marshal with sorted keys
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// Holds reports whether snap read exactly state as the usage state of the
// store at path (a state row, or a legacy file).
func (s *Snapshot) Holds(path string, state []byte) bool {
	if s == nil || state == nil {
		return false
	}
	sum := sha256.Sum256(state)
	match := func(st *AuthStore) bool {
		return st != nil && st.Path == path && st.stateSum != nil && bytes.Equal(st.stateSum, sum[:])
	}
	if match(s.Shared) {
		return true
	}
	for _, a := range s.Agents {
		if match(a.Own) {
			return true
		}
	}
	return false
}

// setStateSum records a hash (never the bytes: a legacy file holds the
// keys) of the usage state bytes a store was read from.
func (st *AuthStore) setStateSum(b []byte) {
	if st == nil || b == nil {
		return
	}
	sum := sha256.Sum256(b)
	st.stateSum = sum[:]
}
