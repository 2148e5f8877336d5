package peer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"sort"
	"strings"
	"sync"
)

const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func randomChars(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = keyAlphabet[int(b[i])%len(keyAlphabet)]
	}
	// never start with '-', so a key can't look like a flag
	if n > 0 && b[0] == '-' {
		b[0] = 'A'
	}
	return string(b)
}

// FakeAPIKey returns a random fake Anthropic API key with the real shape:
// "sk-ant-api03-" + 95 random base64url characters + "AA" (110 chars).
func FakeAPIKey() string { return "sk-ant-api03-" + randomChars(95) + "AA" }

// FakeSetupToken returns a random fake setup token accepted by
// `paste-token` (it must start with "sk-ant-oat01-" and be >= 80 chars).
func FakeSetupToken() string { return "sk-ant-oat01-" + randomChars(95) + "AA" }

// Fingerprint is a log-safe stand-in for a secret: "sha256:" + 12 hex.
func Fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:])[:12]
}

// secretPattern catches Anthropic-style credentials and refresh fences even
// when they were not registered with a redactor.
var secretPattern = regexp.MustCompile(`sk-ant-[a-z]+[0-9]*-[A-Za-z0-9_\-]{8,}|openclaw-oauth-refresh-fence:v1:[0-9a-f:a-z]+`)

// redactor replaces registered secrets (and anything that looks like an
// Anthropic credential) in text meant for logs and error messages.
type redactor struct {
	mu      sync.Mutex
	secrets map[string]struct{}
}

func (r *redactor) add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.secrets == nil {
		r.secrets = map[string]struct{}{}
	}
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if len(s) >= 6 {
			r.secrets[s] = struct{}{}
		}
	}
}

func (r *redactor) redact(s string) string {
	r.mu.Lock()
	list := make([]string, 0, len(r.secrets))
	for k := range r.secrets {
		list = append(list, k)
	}
	r.mu.Unlock()
	// longest first, so a secret containing another is replaced whole
	sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	for _, k := range list {
		if strings.Contains(s, k) {
			s = strings.ReplaceAll(s, k, "<secret "+Fingerprint(k)+">")
		}
	}
	return secretPattern.ReplaceAllStringFunc(s, func(m string) string {
		return "<secret " + Fingerprint(m) + ">"
	})
}

// Redact replaces anything that looks like an Anthropic credential in s.
func Redact(s string) string { var r redactor; return r.redact(s) }

// sensitiveEnvName reports env vars whose values must never be logged.
func sensitiveEnvName(name string) bool {
	u := strings.ToUpper(name)
	for _, w := range []string{"KEY", "TOKEN", "SECRET", "PASSWORD", "AUTH", "CREDENTIAL"} {
		if strings.Contains(u, w) {
			return true
		}
	}
	return false
}
