package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
)

const fixtures = "../../testdata/openclaw/fixtures"

func runCmd(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func TestStatusExitCodesAndJSON(t *testing.T) {
	cases := []struct {
		name, store, state string
		wantRC             int
		wantHealth         string
	}{
		{"onboarded", "", "", exitOK, "unverified"},
		{"cooldown auth 1h", "", "state.cooldown-auth-1h.json", exitCritical, "cooldown"},
		{"expired cooldown", "", "state.cooldown-expired.json", exitOK, "unverified"},
		{"expired setup token", "store.token-expired.json", "", exitCritical, "expired"},
		{"expired oauth", "store.oauth-expired.json", "", exitCritical, "expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := install(t, tc.store, tc.state, "")
			out, errOut, rc := runCmd(t, "", "status", "--json", "--state-dir", dir)
			var rep struct {
				Target   string `json:"target"`
				OpenClaw struct{ Version, Layout string }
				Verdict  string `json:"verdict"`
				Profiles []struct{ ID, Health, Secret, Source, Type string }
				Findings []struct{ Code, Severity string }
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("not JSON (%v): %s %s", err, out, errOut)
			}
			if rep.Target != "local" || rep.OpenClaw.Version != "2026.9.6" || len(rep.Profiles) == 0 {
				t.Fatalf("report %+v", rep)
			}
			if rc != tc.wantRC || rep.Profiles[0].Health != tc.wantHealth {
				t.Errorf("rc=%d health=%s, want rc=%d health=%s; findings %+v", rc, rep.Profiles[0].Health, tc.wantRC, tc.wantHealth, rep.Findings)
			}
		})
	}
}

func TestBrokenConfigIsAFindingNotAnError(t *testing.T) {
	dir := install(t, "", "", "")
	b, _ := os.ReadFile(fixtures + "/state/openclaw.broken.json")
	must(t, os.WriteFile(filepath.Join(dir, "openclaw.json"), b, 0o600))
	out, _, rc := runCmd(t, "", "status", "--json", "--state-dir", dir)
	if rc != exitCritical || !strings.Contains(out, `"config.syntax"`) || !strings.Contains(out, `"line": 4`) || !strings.Contains(out, `"column": 1`) {
		t.Fatalf("rc=%d out=%s", rc, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"bogus"}, {"status", "--nope"}, {"status", "extra"}, {"diagnose", "--anthropic-base-url", "http://example.com", "--probe", "--state-dir", "/nonexistent"}} {
		_, errOut, rc := runCmd(t, "", args...)
		if rc != exitError || errOut == "" {
			t.Errorf("%v: rc=%d stderr=%q, want rc 3 and a message", args, rc, errOut)
		}
	}
	for _, args := range [][]string{{"status", "--help"}, {"diagnose", "-h"}, {"demo", "--help"}, {"help"},
		{"serve", "--help"}, {"config", "check", "--help"}, {"healthcheck", "--help"}, {"version", "--help"}} {
		out, errOut, rc := runCmd(t, "", args...)
		if rc != exitOK || out+errOut == "" {
			t.Errorf("%v: rc=%d", args, rc)
		}
		// Each flag line is "  -name [placeholder]": a back-quoted phrase in
		// a usage text would become the placeholder.
		for _, line := range strings.Split(out+errOut, "\n") {
			if strings.HasPrefix(line, "  -") && len(strings.Fields(line)) > 2 {
				t.Errorf("%v: flag line %q", args, line)
			}
		}
	}
	out, _, rc := runCmd(t, "", "version")
	if rc != 0 || !strings.HasPrefix(out, "openclaw-bot ") {
		t.Errorf("version: %q", out)
	}
}

// The demo works without OpenClaw, accounts or network, shows every kind of
// finding, answers commands and exits on EOF.
func TestDemo(t *testing.T) {
	t.Setenv("OPENCLAW_STATE_DIR", "/nonexistent-must-not-be-used")
	out, errOut, rc := runCmd(t, "status cooldown\ndiagnose billing\ncheck cooldown\nnonsense\ncooldown reset anthropic:default cooldown\nconfirm\nstatus cooldown\n", "demo")
	if rc != 0 {
		t.Fatalf("rc=%d stderr=%s", rc, errOut)
	}
	for _, code := range []string{"cooldown.active", "cooldown.all", "key.rejected", "env.shadowed", "billing.blocked", "key.malformed",
		"credential.expiring", "env.override", "oauth.refresh_failed", "store.legacy_unmigrated", "version.known_bug", "config.syntax", "auth.missing"} {
		if !strings.Contains(out, code) {
			t.Errorf("demo output lacks %s", code)
		}
	}
	// The demo's console is the bot's chat router: typos get a suggestion,
	// check runs the zero-token key check, a reset answers with its preview.
	for _, want := range []string{`Unknown command "nonsense"`, "key check: rejected",
		"is known rejected", "Cooldown reset on cooldown", "cleared, but the key is still rejected (401)"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo chat lacks %q", want)
		}
	}
	assertNoSecretLeak(t, out+errOut, fixtureSecrets(t))
	keys := sandbox.NewDemoKeys()
	assertNoSecretLeak(t, out+errOut, []string{keys.Good, keys.Rejected, keys.Env, keys.Token})
}

// No secret from any fixture appears in any output of any command.
func TestNoSecretLeaksFromFixtures(t *testing.T) {
	secrets := fixtureSecrets(t)
	if len(secrets) < 5 {
		t.Fatalf("found only %d fixture secrets", len(secrets))
	}
	envLine := "ANTHROPIC_API_KEY=" + sandbox.APIKey("leak-env") + "\nANTHROPIC_OAUTH_TOKEN=" + sandbox.SetupToken("leak-oauth") + "\n"
	secrets = append(secrets, sandbox.APIKey("leak-env"), sandbox.SetupToken("leak-oauth"))
	fake := fakeanthropic.New(fakeanthropic.Options{Mode: fakeanthropic.Mode401})
	defer fake.Close()
	for _, inst := range [][2]string{{"", ""}, {"", "state.cooldown-auth.json"}, {"store.oauth-expired.json", ""}, {"store.token-expired.json", ""}} {
		dir := install(t, inst[0], inst[1], envLine)
		for _, args := range [][]string{
			{"status"}, {"status", "--json"}, {"diagnose"}, {"diagnose", "--json"},
			{"status", "--probe", "--anthropic-base-url", fake.URL()}, {"diagnose", "--json", "--probe", "--anthropic-base-url", fake.URL()},
		} {
			out, errOut, _ := runCmd(t, "", append(args, "--state-dir", dir)...)
			assertNoSecretLeak(t, out+errOut, secrets)
		}
	}
}

func TestConfigTargets(t *testing.T) {
	a := install(t, "", "", "")
	b := install(t, "", "state.cooldown-auth-1h.json", "")
	cfgPath := filepath.Join(t.TempDir(), "bot.yaml")
	must(t, os.WriteFile(cfgPath, []byte("targets:\n  - name: alpha\n    state_dir: "+a+"\n  - name: beta\n    state_dir: "+b+"\n"), 0o600))

	out, errOut, rc := runCmd(t, "", "status", "--json", "--config", cfgPath)
	var multi struct {
		Verdict string `json:"verdict"`
		Targets []struct {
			Target string `json:"target"`
		} `json:"targets"`
	}
	if err := json.Unmarshal([]byte(out), &multi); err != nil || len(multi.Targets) != 2 || multi.Targets[0].Target != "alpha" || multi.Targets[1].Target != "beta" {
		t.Fatalf("multi-target JSON: %v %s %s", err, out, errOut)
	}
	if rc == exitOK || multi.Verdict == "ok" {
		t.Errorf("rc %d verdict %s: the beta target is in a 1h cooldown fixture", rc, multi.Verdict)
	}

	out, _, _ = runCmd(t, "", "status", "--json", "--config", cfgPath, "--target", "alpha")
	if !strings.HasPrefix(strings.TrimSpace(out), "{\n  \"target\": \"alpha\"") {
		t.Errorf("single target JSON: %s", out)
	}
	_, errOut, rc = runCmd(t, "", "status", "--config", cfgPath, "--target", "gamma")
	if rc != exitError || !strings.Contains(errOut, "alpha, beta") {
		t.Errorf("unknown target: rc %d %s", rc, errOut)
	}
	_, errOut, rc = runCmd(t, "", "status", "--config", cfgPath, "--state-dir", a)
	if rc != exitError || !strings.Contains(errOut, "--target") {
		t.Errorf("ambiguous flags: rc %d %s", rc, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	must(t, os.WriteFile(bad, []byte("targetz: []\n"), 0o600))
	if _, errOut, rc = runCmd(t, "", "status", "--config", bad); rc != exitError || !strings.Contains(errOut, "2") && !strings.Contains(errOut, "1") {
		t.Errorf("bad config: rc %d %s", rc, errOut)
	}
	if out, _, rc = runCmd(t, "", "config", "check", "--config", cfgPath); rc != 0 || !strings.Contains(out, "alpha, beta") || strings.Contains(out, "warning") {
		t.Errorf("config check: rc %d %s", rc, out)
	}
	// Valid but unwise: a literal secret in a file others may read.
	lit := filepath.Join(t.TempDir(), "lit.yaml")
	must(t, os.WriteFile(lit, []byte("targets:\n  - name: alpha\n    state_dir: "+a+"\n    gateway_token: gw-literal-token-8888\n"), 0o644))
	must(t, os.Chmod(lit, 0o644)) // whatever the umask
	out, _, rc = runCmd(t, "", "config", "check", "--config", lit)
	if rc != exitOK || !strings.Contains(out, "warning: "+lit+":4: targets[0].gateway_token is written literally") ||
		!strings.Contains(out, "chmod 600 "+lit) || strings.Contains(out, "gw-literal-token-8888") {
		t.Errorf("config check with a literal secret: rc %d %s", rc, out)
	}
	if _, errOut, rc = runCmd(t, "", "config", "check", "--config", bad); rc != exitCritical || !strings.Contains(errOut, "targetz") {
		t.Errorf("config check bad: rc %d %s", rc, errOut)
	}
}
