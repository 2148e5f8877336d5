package scheduler

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
)

func TestLogFollower(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.Local)
	path := filepath.Join(dir, "openclaw-2026-11-25.log")
	// History before the bot started is not replayed.
	os.WriteFile(path, []byte(`{"msg":"No API key found for provider \"anthropic\". old"}`+"\n"), 0o600)
	f := &LogFollower{Dir: dir, Every: 20 * time.Millisecond, Now: func() time.Time { return now }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(100 * time.Millisecond)
	if got := f.Findings(now); len(got) != 0 {
		t.Fatalf("history replayed: %+v", got)
	}
	fh, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString(`{"0":"[agent] ⚠️ anthropic/claude-opus-5 request failed (authentication failed, HTTP 401). key sk-ant-api03-SECRETSECRETSECRET","time":"x"}` + "\n")
	fh.WriteString("plain text line: OAuth token refresh failed for anthropic: boom\n")
	fh.WriteString(`{"partial":"no newline yet`)
	fh.Close()
	deadline := time.Now().Add(5 * time.Second)
	for len(f.Findings(now)) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	got := f.Findings(now)
	if len(got) != 2 || got[0].Code != diagnostics.CodeLogAuthRejected || got[1].Code != diagnostics.CodeLogOAuthRefresh {
		t.Fatalf("findings %+v", got)
	}
	if strings.Contains(got[0].Evidence, "SECRETSECRET") {
		t.Fatal("log line not scrubbed")
	}
	if later := f.Findings(now.Add(logEventTTL + time.Minute)); len(later) != 0 {
		t.Fatalf("events must expire: %+v", later)
	}
}

// Log lines that the state already explains do not become incidents of their
// own (they would keep an alert group from resolving).
func TestLogFindingsOnlyForWhatLeavesNoState(t *testing.T) {
	logged := []diagnostics.Finding{{Code: diagnostics.CodeLogAuthRejected}, {Code: diagnostics.CodeLogNoAPIKey}, {Code: diagnostics.CodeLogOAuthRefresh}}
	stored := diagnostics.Report{Profiles: []diagnostics.ProfileStatus{{Provider: "anthropic", Source: diagnostics.SourceStore}},
		Findings: []diagnostics.Finding{{Code: diagnostics.CodeOAuthRefreshFailed}}}
	if got := logFindings(stored, logged); len(got) != 1 || got[0].Code != diagnostics.CodeLogNoAPIKey {
		t.Errorf("with a stored profile: %+v", got)
	}
	envOnly := diagnostics.Report{Profiles: []diagnostics.ProfileStatus{{Provider: "anthropic", Source: diagnostics.SourceEnv}},
		Findings: []diagnostics.Finding{{Code: diagnostics.CodeAuthMissing}}}
	if got := logFindings(envOnly, logged); len(got) != 2 || got[0].Code != diagnostics.CodeLogAuthRejected || got[1].Code != diagnostics.CodeLogOAuthRefresh {
		t.Errorf("env-only: %+v", got)
	}
	// An interrupted refresh (pending fence) explains the refresh failure too.
	pending := diagnostics.Report{Profiles: []diagnostics.ProfileStatus{{Provider: "anthropic", Source: diagnostics.SourceStore}},
		Findings: []diagnostics.Finding{{Code: diagnostics.CodeOAuthRefreshPending}}}
	if got := logFindings(pending, logged); len(got) != 1 || got[0].Code != diagnostics.CodeLogNoAPIKey {
		t.Errorf("with a pending fence: %+v", got)
	}
}
