package openclaw

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzStore feeds arbitrary bytes to every reader of OpenClaw's credential
// JSON: the profile store, the usage state, the legacy OAuth file, and a
// dotenv file. None may panic; what parses must be usable.
func FuzzStore(f *testing.F) {
	for _, dir := range []string{"state", "old-2026.3.31"} {
		files, _ := filepath.Glob(filepath.Join(fixtures, dir, "*.json"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"version":1,"profiles":{"a:b":{"type":"oauth","access":"openclaw-oauth-refresh-fence:v1:00:failed:x","expires":1e308}}}`))
	f.Add([]byte(`{"usageStats":{"x":{"cooldownUntil":"soon","errorCount":-1,"failureCounts":{"auth":1.5}}}}`))
	f.Add([]byte("ANTHROPIC_API_KEY=\"multi\nline\"\nexport X='y' # c\n"))
	now := time.Now()
	f.Fuzz(func(t *testing.T, data []byte) {
		if ps, st, _, err := parseStore(data); err == nil {
			for _, p := range ps {
				_ = p.Secret.Masked()
				_, _ = st.Usage[p.ID].Active(now)
			}
		}
		if st, err := parseState(data); err == nil {
			for _, u := range st.Usage {
				_, _ = u.Active(now)
			}
		}
		_, _ = legacyOAuth(data)
		for _, e := range ParseDotenv(data) {
			if e.Name == "" || e.Line < 1 {
				t.Fatalf("bad dotenv entry %+v", e)
			}
		}
	})
}

// FuzzConfig parses arbitrary openclaw.json contents.
func FuzzConfig(f *testing.F) {
	for _, p := range []string{"openclaw.onboarded.json", "openclaw.with-anthropic-baseUrl.json", "openclaw.broken.json"} {
		if b, err := os.ReadFile(filepath.Join(fixtures, "state", p)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{auth:{profiles:{x:1,"a:b":{mode:"bogus"}}},env:{vars:[],shellEnv:{enabled:"y"},ANTHROPIC_API_KEY:"k"},agents:{entries:{main:[]}}}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig("openclaw.json", data)
		if err != nil {
			ce, ok := err.(*ConfigError)
			if !ok || ce.Msg == "" {
				t.Fatalf("error is not a usable *ConfigError: %#v", err)
			}
			return
		}
		_ = c.Models()
		for _, is := range c.Issues {
			if is.Msg == "" {
				t.Fatal("issue without message")
			}
		}
	})
}
