package sandbox

import (
	"fmt"
	"path/filepath"
	"time"
)

// DemoTarget is one install of the demo.
type DemoTarget struct {
	Name     string
	StateDir string
	What     string // one line: what is wrong with it
}

// DemoKeys are the fake credentials of the demo: Good is the key the demo's
// fake Anthropic accepts; every other key is rejected with a 401.
type DemoKeys struct {
	Good, Rejected, Env, Token string
}

// NewDemoKeys derives the demo's fake keys.
func NewDemoKeys() DemoKeys {
	return DemoKeys{Good: APIKey("demo-good"), Rejected: APIKey("demo-rejected"), Env: APIKey("demo-env"), Token: SetupToken("demo-token")}
}

// Demo builds, under root (a fresh temp dir), installs that between them
// show every kind of finding the bot knows.
func Demo(root string, keys DemoKeys, now time.Time) ([]DemoTarget, error) {
	ms := func(d time.Duration) int64 { return now.Add(d).UnixMilli() }
	fallback := map[string]any{"agents": map[string]any{"defaults": map[string]any{"model": map[string]any{
		"primary": "anthropic/claude-opus-5", "fallbacks": []string{"anthropic/claude-sonnet-5"}}}}}
	type build func(d *Dir) error
	var targets []DemoTarget
	add := func(name, what string, f build) error {
		d, err := New(filepath.Join(root, name))
		if err != nil {
			return err
		}
		if err := f(d); err != nil {
			return fmt.Errorf("demo %s: %w", name, err)
		}
		targets = append(targets, DemoTarget{Name: name, StateDir: d.Path, What: what})
		return nil
	}
	key := func(k string) map[string]any {
		return map[string]any{"type": "api_key", "provider": "anthropic", "key": k}
	}
	steps := []struct {
		name, what string
		f          build
	}{
		{"healthy", "one good key and a fallback model: nothing to report", func(d *Dir) error {
			if err := d.Config("2026.9.6", fallback, "anthropic:default"); err != nil {
				return err
			}
			return d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:default": key(keys.Good)}}, nil)
		}},
		{"cooldown", "a rejected key in an auth cooldown, with a good env key that OpenClaw never uses", func(d *Dir) error {
			if err := d.Config("2026.9.6", nil, "anthropic:default"); err != nil {
				return err
			}
			if err := d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:default": key(keys.Rejected)}},
				map[string]any{"version": 1, "usageStats": map[string]any{"anthropic:default": map[string]any{
					"cooldownUntil": ms(4 * time.Minute), "cooldownReason": "auth", "errorCount": 3,
					"failureCounts": map[string]int{"auth": 3}, "lastFailureAt": ms(-time.Minute)}}}); err != nil {
				return err
			}
			return d.WriteFile(".env", []byte("ANTHROPIC_API_KEY="+keys.Env+"\n"))
		}},
		{"billing", "a billing disable, a garbage key, a setup token expiring in 2 h, ANTHROPIC_BASE_URL set", func(d *Dir) error {
			if err := d.Config("2026.9.6", nil, "anthropic:default", "anthropic:typo"); err != nil {
				return err
			}
			if err := d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{
				"anthropic:default": key(keys.Good),
				"anthropic:typo":    key("garbage-key-123"),
				"anthropic:manual":  map[string]any{"type": "token", "provider": "anthropic", "token": keys.Token, "expires": ms(2 * time.Hour)},
			}}, map[string]any{"version": 1, "usageStats": map[string]any{"anthropic:default": map[string]any{
				"disabledUntil": ms(10 * time.Minute), "disabledReason": "billing", "errorCount": 1, "failureCounts": map[string]int{"billing": 1}}}}); err != nil {
				return err
			}
			return d.WriteFile(".env", []byte("ANTHROPIC_BASE_URL=http://127.0.0.1:9\n"))
		}},
		{"oauth", "an OAuth login destroyed by a failed refresh, and a rate-limit cooldown on one model", func(d *Dir) error {
			if err := d.Config("2026.9.6", fallback); err != nil {
				return err
			}
			fence := "openclaw-oauth-refresh-fence:v1:00000000000000000000000000000000:failed:"
			return d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{
				"anthropic:oauth":   map[string]any{"type": "oauth", "provider": "anthropic", "access": fence + "access:00", "refresh": fence + "refresh:00", "expires": 1, "email": "demo@example.invalid"},
				"anthropic:default": key(keys.Good),
			}}, map[string]any{"version": 1, "usageStats": map[string]any{"anthropic:default": map[string]any{
				"cooldownUntil": ms(90 * time.Second), "cooldownReason": "rate_limit", "cooldownModel": "claude-opus-5", "errorCount": 1}}})
		}},
		{"unmigrated", "an upgrade to 2026.9.6 that left legacy JSON credentials behind", func(d *Dir) error {
			if err := d.Config("2026.9.6", fallback, "anthropic:default"); err != nil {
				return err
			}
			if err := d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:default": key(keys.Good)}}, nil); err != nil {
				return err
			}
			return d.WriteJSON("agents/main/agent/auth-profiles.json", map[string]any{"version": 1, "profiles": map[string]any{"anthropic:default": key(keys.Good)}})
		}},
		{"legacy", "OpenClaw 2026.3.31 (JSON files) with a cooldown", func(d *Dir) error {
			if err := d.Config("2026.3.31", fallback, "anthropic:default"); err != nil {
				return err
			}
			return d.WriteJSON("agents/main/agent/auth-profiles.json", map[string]any{"version": 1,
				"profiles":   map[string]any{"anthropic:default": key(keys.Good)},
				"usageStats": map[string]any{"anthropic:default": map[string]any{"cooldownUntil": ms(30 * time.Minute), "cooldownReason": "rate_limit", "errorCount": 2}}})
		}},
		{"broken", "openclaw.json cut off mid-file", func(d *Dir) error {
			return d.WriteFile("openclaw.json", []byte("{\n  \"agents\": {\n    \"defaults\": {\n"))
		}},
		{"empty", "configured for Anthropic but no credential anywhere", func(d *Dir) error {
			return d.Config("2026.9.6", nil)
		}},
	}
	for _, s := range steps {
		if err := add(s.name, s.what, s.f); err != nil {
			return nil, err
		}
	}
	return targets, nil
}
