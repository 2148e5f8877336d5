package change

// A real gateway of an older release (2026.6.11, internal/peer; skipped
// without it and under -short): it records a failure itself, keeps it in
// memory after the bot's reset on disk, and answers again only after the
// RPC RefreshGateway picks for its release (secrets.reload: that release
// has no models.authRefresh).

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/peer"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/openclaw/run"
)

const gatewayReleaseVersion = "2026.6.11"

func TestGatewayRefreshOldRelease(t *testing.T) {
	cli := peer.RequireRelease(t, gatewayReleaseVersion)
	start := time.Now()
	fake := fakeanthropic.New(fakeanthropic.Options{Mode: fakeanthropic.ModeOK})
	defer fake.Close()
	sb := peer.NewReleaseSandbox(t, cli)
	sb.Setenv("OPENCLAW_DISABLE_BONJOUR", "1")
	if err := sb.OnboardRelease(peer.FakeAPIKey(), fake.URL()); err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Gateway struct {
			Auth struct {
				Token string `json:"token"`
			} `json:"auth"`
		} `json:"gateway"`
	}
	raw, err := sb.ReadConfig()
	if err != nil || json.Unmarshal(raw, &cfg) != nil || cfg.Gateway.Auth.Token == "" {
		t.Fatalf("no gateway token in the onboarded config: %v", err)
	}
	sb.AddSecret(cfg.Gateway.Auth.Token)
	loc, err := openclaw.Locate(openclaw.LocateOptions{StateDir: sb.StateDir(), Home: sb.Home, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	oc := &run.CLI{Bin: cli.Bin, Loc: loc, Timeout: 90 * time.Second, Grace: 5 * time.Second,
		GatewayToken: redact.Secret(cfg.Gateway.Auth.Token)}
	_, stop := startTestGateway(t, sb, sb.GatewayPort)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	refresh := func(what string) {
		t.Helper()
		r, err := RefreshGateway(ctx, oc, gatewayReleaseVersion)
		t.Logf("%s: RefreshGateway → %+v %v", what, r, err)
		if err != nil || r.Outcome != GatewayReloaded || r.Method != openclaw.RefreshSecrets || r.Version != gatewayReleaseVersion {
			t.Fatalf("%s: RefreshGateway = %+v, %v; want reloaded with secrets.reload", what, r, err)
		}
	}
	// The bot's first contact: 2026.6.x pairs the CLI's device with the
	// scopes of its first call, and secrets.reload needs operator.admin (a
	// device first paired by a write-scope call gets "pairing required:
	// device is asking for more scopes than currently approved").
	refresh("first contact")

	turn := func(what string) (ok bool, msg string, requests int) {
		t.Helper()
		n := fake.Count(fakeanthropic.PathMessages)
		params := fmt.Sprintf(`{"message":"hi (%s)","agentId":"main","idempotencyKey":"gw-refresh-%d"}`, what, time.Now().UnixNano())
		r := sb.Exec(peer.RunOptions{Timeout: 4 * time.Minute}, "gateway", "call", "agent", "--params", params,
			"--expect-final", "--json", "--timeout", "200000")
		var out struct {
			Status string `json:"status"`
			Error  struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal([]byte(strings.TrimSpace(r.Stdout)), &out)
		msg = out.Error.Message
		if msg == "" && out.Status != "ok" {
			msg = sb.Redact(strings.TrimSpace(r.Stdout + " " + r.Stderr))
		}
		requests = fake.Count(fakeanthropic.PathMessages) - n
		t.Logf("%s: agent turn through the gateway: rc %d, status %q, %d request(s) to the fake; %s", what, r.RC, out.Status, requests, msg)
		return r.RC == 0 && out.Status == "ok", msg, requests
	}
	if ok, msg, _ := turn("warm-up"); !ok {
		t.Fatalf("warm-up turn failed: %s", msg)
	}

	// The gateway records the failure itself: "API key revoked" is
	// auth_permanent, a 10-minute window (an auth cooldown lasts 30 s, too
	// short for a loaded machine; the gateway keeps both the same way).
	fake.SetMode(fakeanthropic.Mode401Revoked)
	if ok, msg, n := turn("revoked key"); ok || n == 0 || !strings.Contains(msg, fakeanthropic.MsgAPIKeyRevoked) {
		t.Fatalf("the failing turn: ok %v, %d requests, %s", ok, n, msg)
	}
	snap, err := openclaw.ReadSnapshot(ctx, loc, openclaw.ReadOptions{Env: openclaw.EnvSources{NoProc: true}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := snap.Usage(snap.DefaultAgent(), "anthropic:default")
	w, active := u.Active(time.Now())
	if !active || w.Reason != "auth_permanent" {
		t.Fatalf("the gateway recorded no auth_permanent window: %+v", u)
	}
	if snap.Version != gatewayReleaseVersion || snap.Generation != openclaw.GenAgentSQLite {
		t.Fatalf("install: version %q generation %q", snap.Version, snap.Generation)
	}

	// The key works again; the bot resets the state on disk.
	fake.SetMode(fakeanthropic.ModeOK)
	plans, err := PlanResets(ctx, snap, "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plans {
		if _, err := ApplyReset(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// The gateway still refuses the profile from memory, sending nothing.
	if ok, msg, n := turn("reset on disk, gateway not told"); ok || n != 0 || !strings.Contains(msg, "skipping all models") {
		t.Fatalf("the gateway did not keep the window in memory (ok %v, %d requests, %s): nothing to prove", ok, n, msg)
	}
	// Told the way its release needs, it answers again.
	refresh("after the reset")
	ok, msg, n := turn("reset, gateway told")
	if !ok || n == 0 {
		t.Fatalf("after reset + secrets.reload the gateway still refuses: ok %v, %d requests, %s", ok, n, msg)
	}
	if time.Now().After(w.Until) {
		t.Fatalf("the window ended (%s) before the check: it proves nothing", w.Until)
	}
	t.Logf("%s measured in %s", gatewayReleaseVersion, time.Since(start).Round(time.Second))
}
