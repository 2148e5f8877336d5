// Package redact keeps credentials out of everything the bot prints: a Secret
// type that never formats its value, OpenClaw-style masking for evidence, a
// stable fingerprint for caches and logs, and a Scrubber that is the last line
// of defence on bytes going to a chat message, a log line or an error.
package redact

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Placeholder is what a secret is replaced by.
const Placeholder = "[REDACTED]"

// Secret holds a credential. Every way of formatting it prints Placeholder;
// the real value is only available through Reveal, at the call site that
// needs to send it.
type Secret string

func (Secret) String() string               { return Placeholder }
func (Secret) GoString() string             { return Placeholder }
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Placeholder + `"`), nil }
func (Secret) MarshalText() ([]byte, error) { return []byte(Placeholder), nil }
func (Secret) MarshalYAML() (any, error)    { return Placeholder, nil }
func (s Secret) Reveal() string             { return string(s) }
func (s Secret) IsZero() bool               { return s == "" }
func (s Secret) Masked() string             { return Mask(string(s)) }
func (s Secret) Fingerprint() string        { return Fingerprint(string(s)) }

// Mask shows a credential the way OpenClaw's maskApiKey does, so that our
// evidence can be compared with `openclaw models status` output: the first 8
// and last 8 characters around "..."; shorter values show less (≤16: 2+2,
// ≤6: 1+1). The empty string stays empty.
func Mask(s string) string {
	s = strings.TrimSpace(s)
	r := []rune(s)
	switch n := len(r); {
	case n == 0:
		return ""
	case n <= 6:
		return string(r[:1]) + "..." + string(r[n-1:])
	case n <= 16:
		return string(r[:2]) + "..." + string(r[n-2:])
	default:
		return string(r[:8]) + "..." + string(r[n-8:])
	}
}

// Fingerprint is a short, stable, non-reversible id of a credential: the first
// 12 hex digits of its SHA-256. Safe to log and to use as a cache key.
func Fingerprint(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:6])
}

// patterns matches credential shapes we know, wherever they appear:
// Anthropic keys/tokens, Slack tokens, Telegram bot tokens (also inside a
// Bot API URL path), and OpenClaw's OAuth refresh fences.
var patterns = regexp.MustCompile(`sk-ant-[A-Za-z0-9_\-]{8,}|xox[abposr]-[A-Za-z0-9\-]{6,}|xapp-[A-Za-z0-9\-]{6,}|bot[0-9]{5,}:[A-Za-z0-9_\-]{20,}|\b[0-9]{6,12}:[A-Za-z0-9_\-]{30,}|openclaw-oauth-refresh-fence:v1:[0-9a-f:a-z]+`)

// Scrubber replaces known secret values and credential-shaped strings.
// The zero value is not usable; call NewScrubber. Safe for concurrent use.
type Scrubber struct {
	mu     sync.RWMutex
	values []string // exact values, longest first
}

// NewScrubber returns a scrubber that also removes the given exact values.
func NewScrubber(values ...string) *Scrubber {
	s := &Scrubber{}
	s.Add(values...)
	return s
}

// Add registers more exact values (short ones, under 6 characters, are
// ignored: they would mangle ordinary text and are not credentials).
func (s *Scrubber) Add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) < 6 {
			continue
		}
		s.values = append(s.values, v)
	}
	sort.Slice(s.values, func(i, j int) bool { return len(s.values[i]) > len(s.values[j]) })
}

// String scrubs a string.
func (s *Scrubber) String(in string) string {
	if s != nil {
		s.mu.RLock()
		for _, v := range s.values {
			if strings.Contains(in, v) {
				in = strings.ReplaceAll(in, v, Placeholder)
			}
		}
		s.mu.RUnlock()
	}
	return patterns.ReplaceAllString(in, Placeholder)
}

// String scrubs credential-shaped substrings without any known values.
func String(in string) string { return (*Scrubber)(nil).String(in) }
