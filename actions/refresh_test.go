package actions

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/openclaw/change"
	"github.com/openclaw-bot/openclaw-bot/openclaw/run"
)

// refreshFake is an `openclaw` whose gateway answers like a real gateway of
// release $GW (measured, see openclaw/generation.go): models.authRefresh
// from 2026.9.5, secrets.reload {"ok":true} from 2026.2.26 (2026.8.2 too,
// where it changes nothing), status with runtimeVersion ("nover": none);
// "down": no gateway. Every gateway method called is appended to $REC.
const refreshFake = `#!/bin/sh
[ "$1" = "--version" ] && { echo "OpenClaw 2026.9.6 (eb377ac)"; exit 0; }
echo "$3" >>"$REC"
if [ "$GW" = down ]; then
	echo '{"ok":false,"error":{"type":"gateway_transport_error","kind":"closed","message":"Gateway not reachable at ws://127.0.0.1:1 (ECONNREFUSED)."}}'
	exit 1
fi
case "$3" in
models.authRefresh)
	case "$GW" in 2026.9.6) echo '{"refreshed":true}'; exit 0 ;; esac ;;
secrets.reload)
	case "$GW" in 2026.1.*) ;; *) echo '{"ok":true,"warningCount":0}'; exit 0 ;; esac ;;
status)
	case "$GW" in nover) echo '{}' ;; *) echo '{"runtimeVersion":"'"$GW"'"}' ;; esac
	exit 0 ;;
esac
echo '{"ok":false,"error":{"type":"gateway_request_error","code":"INVALID_REQUEST","message":"unknown method: '"$3"'"}}'
exit 1
`

// The reset reply says exactly how the gateway was told, for its release,
// and asks for a restart where no RPC helps (2026.8.x).
func TestRefreshLineByRelease(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "openclaw")
	must(t, os.WriteFile(bin, []byte(refreshFake), 0o755))
	state := filepath.Join(dir, "state")
	snapOf := func(version string) *openclaw.Snapshot {
		return &openclaw.Snapshot{Version: version, Location: openclaw.Location{StateDir: state, ConfigPath: filepath.Join(state, "openclaw.json")}}
	}
	cmd := func(args string) string { return "OPENCLAW_STATE_DIR=" + state + " openclaw " + args }
	cases := []struct {
		name, version, gw string
		noCLI, restarter  bool
		want              string
		calls             string // gateway methods called, space-separated
	}{
		{name: "9.6", version: "2026.9.6", gw: "2026.9.6",
			want:  "Told the gateway with models.authRefresh (OpenClaw 2026.9.6): it reloaded its auth state.",
			calls: "models.authRefresh"},
		{name: "7.35", version: "2026.7.35", gw: "2026.7.35",
			want:  "Told the gateway with secrets.reload (OpenClaw 2026.7.35): it reloaded its auth state.",
			calls: "secrets.reload"},
		{name: "4.24", version: "2026.4.24", gw: "2026.4.24",
			want:  "Told the gateway with secrets.reload (OpenClaw 2026.4.24): it reloaded its auth state.",
			calls: "secrets.reload"},
		{name: "8.2 with a restart method", version: "2026.8.2", gw: "2026.8.2", restarter: true,
			want:  "This gateway (OpenClaw 2026.8.2) keeps the old cooldown in memory until it restarts: no RPC makes it reread the state. Restart it: restart local.",
			calls: "status"},
		{name: "8.2 without one", version: "2026.8.2", gw: "2026.8.2",
			want:  "This gateway (OpenClaw 2026.8.2) keeps the old cooldown in memory until it restarts: no RPC makes it reread the state. Restart it on the host (no restart method is configured for local).",
			calls: "status"},
		{name: "unknown version, 8.2 gateway", gw: "2026.8.2", restarter: true,
			want:  "This gateway (OpenClaw 2026.8.2) keeps the old cooldown in memory until it restarts: no RPC makes it reread the state. Restart it: restart local.",
			calls: "models.authRefresh status"},
		{name: "unknown version, gateway without a version", gw: "nover", restarter: true,
			want:  "Told the gateway with secrets.reload, which it accepted (release unknown; it does not know models.authRefresh). OpenClaw 2026.8.x gateways accept that without dropping the old cooldown: if it still skips the profile, restart it: restart local.",
			calls: "models.authRefresh status secrets.reload"},
		{name: "1.29", version: "2026.1.29", gw: "2026.1.29",
			want: "This gateway (OpenClaw 2026.1.29) reads the state from disk on every request: nothing to tell it."},
		{name: "8.2, no gateway", version: "2026.8.2", gw: "down",
			want: "No gateway is running: fine, it reads the state when it starts.", calls: "status"},
		{name: "no CLI, 7.35", version: "2026.7.35", noCLI: true,
			want: "A running gateway keeps its in-memory state until told: run " + cmd(`gateway call secrets.reload --params '{}' --json`) +
				" on the host (OpenClaw 2026.7.35; a gateway that is down reads the state when it starts)."},
		{name: "no CLI, 9.6", version: "2026.9.6", noCLI: true,
			want: "A running gateway keeps its in-memory state until told: run " + cmd(`gateway call models.authRefresh --params '{"operation":"update"}' --json`) +
				" on the host (OpenClaw 2026.9.6; a gateway that is down reads the state when it starts)."},
		{name: "no CLI, 8.2", version: "2026.8.2", noCLI: true, restarter: true,
			want: "This gateway (OpenClaw 2026.8.2) keeps the old cooldown in memory until it restarts: no RPC makes it reread the state. Restart it: restart local."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := filepath.Join(t.TempDir(), "calls")
			tgt := Target{Target: diagnostics.Target{Name: "local"}}
			if !tc.noCLI {
				tgt.CLI = &run.CLI{Bin: bin, Loc: snapOf("").Location, Timeout: 20 * time.Second, Grace: time.Second,
					ExtraEnv: map[string]string{"GW": tc.gw, "REC": rec}}
			}
			if tc.restarter {
				tgt.Restarter = &change.Restarter{}
			}
			got := spansText(New(Options{}).refreshLine(context.Background(), tgt, snapOf(tc.version), false))
			if got != tc.want {
				t.Errorf("reply line\n got: %s\nwant: %s", got, tc.want)
			}
			calls, _ := os.ReadFile(rec)
			if c := strings.Join(strings.Fields(string(calls)), " "); c != tc.calls {
				t.Errorf("gateway calls %q, want %q", c, tc.calls)
			}
		})
	}
}

// After an undo on 2026.8.x the gateway may still hold either state.
func TestRefreshLineUndoNeedsRestart(t *testing.T) {
	tgt := Target{Target: diagnostics.Target{Name: "local"}, Restarter: &change.Restarter{}}
	got := spansText(New(Options{}).refreshLine(context.Background(), tgt, &openclaw.Snapshot{Version: "2026.8.2"}, true))
	want := "This gateway (OpenClaw 2026.8.2) keeps whatever it has in memory until it restarts (the restored state reaches it only then): no RPC makes it reread the state. Restart it: restart local."
	if got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
}

func spansText(spans []bot.Span) string {
	var b strings.Builder
	for _, s := range spans {
		b.WriteString(s.Text)
	}
	return b.String()
}
