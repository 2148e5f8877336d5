package diagnostics

import (
	"encoding/json"
	"maps"
	"time"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// SecretMemory is what serve remembers of one install's stored Anthropic
// credentials across snapshots, to tell that a secret changed after a
// cooldown began (cooldown.stale) on any OpenClaw release, and for a store
// holding several profiles, where the store's own write time cannot say
// whose secret changed. It keeps, per credential (SecretKey), a
// fingerprint of the secret (redact.Fingerprint: 6 bytes of SHA-256),
// never the secret. It changes only when a secret appears, changes or goes,
// or a new failure is seen, so an idle round has nothing to persist. Not
// safe for concurrent use.
type SecretMemory struct {
	Memos map[string]SecretMemo `json:"memos"`
	dirty bool
}

// SecretMemo is what is remembered of one credential.
type SecretMemo struct {
	// FP is the fingerprint of the secret last seen.
	FP string `json:"fp"`
	// Seen is when the bot saw that secret in place: first, and again at
	// the first snapshot after each failure it saw (lastFailureAt after
	// Seen), so Seen is at or after the start of every window seen on it.
	Seen time.Time `json:"seen"`
	// ChangedAfter is the Seen of the secret before this one: this one was
	// stored after that instant. Zero: no change seen.
	ChangedAfter time.Time `json:"changed_after,omitzero"`
}

// LoadSecretMemory parses a persisted memory ("" or damaged: an empty
// one, which only forgets evidence, never invents any).
func LoadSecretMemory(data string) *SecretMemory {
	m := &SecretMemory{}
	if data != "" {
		_ = json.Unmarshal([]byte(data), m)
	}
	if m.Memos == nil {
		m.Memos = map[string]SecretMemo{}
	}
	return m
}

// Marshal is the memory to persist.
func (m *SecretMemory) Marshal() string {
	b, _ := json.Marshal(m)
	return string(b)
}

// TakeDirty reports whether the memory changed since the last call.
func (m *SecretMemory) TakeDirty() bool {
	d := m.dirty
	m.dirty = false
	return d
}

// Observe updates the memory from a snapshot. A snapshot that was not
// read whole (problems, a newer release) teaches nothing: a credential
// missing from it may only be unread.
func (m *SecretMemory) Observe(snap *openclaw.Snapshot) {
	if snap == nil || len(snap.Problems) > 0 || snap.Newer != "" || snap.StateDirMissing {
		return
	}
	if m.Memos == nil {
		m.Memos = map[string]SecretMemo{}
	}
	now := snap.TakenAt
	if now.IsZero() {
		now = time.Now()
	}
	keys := collectKeys(snap)
	// The latest failure recorded for each credential, agent-local usage
	// on an inherited profile included.
	failed := map[string]time.Time{}
	for _, k := range keys {
		if k.Source != SourceStore || k.Store == nil {
			continue
		}
		key := SecretKey(k.Agent, k.ID)
		if k.Inherited {
			key = SecretKey("", k.ID)
		}
		if f := k.Store.State.Usage[k.ID].LastFailureAt; f.After(failed[key]) {
			failed[key] = f
		}
	}
	present := map[string]bool{}
	for _, k := range keys {
		if k.Source != SourceStore || k.Inherited || k.Cred.Provider != "anthropic" {
			continue
		}
		fp := k.Fingerprint()
		if fp == "" {
			continue
		}
		key := SecretKey(k.Agent, k.ID)
		present[key] = true
		old, ok := m.Memos[key]
		switch {
		case !ok:
			m.Memos[key] = SecretMemo{FP: fp, Seen: now}
		case old.FP != fp:
			m.Memos[key] = SecretMemo{FP: fp, Seen: now, ChangedAfter: old.Seen}
		case failed[key].After(old.Seen):
			old.Seen = now
			m.Memos[key] = old
		default:
			continue
		}
		m.dirty = true
	}
	for key := range m.Memos {
		if !present[key] {
			delete(m.Memos, key)
			m.dirty = true
		}
	}
}

// Changes is the memory's evidence for Input.SecretChanges.
func (m *SecretMemory) Changes() map[string]SecretChange {
	out := map[string]SecretChange{}
	for key, memo := range m.Memos {
		if memo.ChangedAfter.IsZero() {
			continue
		}
		out[key] = SecretChange{After: memo.ChangedAfter,
			How: "openclaw-bot saw the previous secret of this profile still in place at " + memo.ChangedAfter.UTC().Format(time.RFC3339)}
	}
	return out
}

// Clone is a copy (for a reader on another goroutine).
func (m *SecretMemory) Clone() *SecretMemory {
	return &SecretMemory{Memos: maps.Clone(m.Memos)}
}
