package scheduler

import (
	"testing"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// The health check and a restart's readiness poll use the same gateway: a
// gateway behind a path prefix is checked at <prefix>/healthz, not /healthz.
func TestHealthURLKeepsThePathPrefix(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ws://127.0.0.1:18789", "http://127.0.0.1:18789/healthz"},
		{"wss://gw.example/openclaw/", "https://gw.example/openclaw/healthz"},
		{"https://user:pw@gw.example/oc?token=x", "https://gw.example/oc/healthz"},
		{"ftp://gw.example", ""},
		{"", ""},
	} {
		got := HealthURL(tc.in)
		if got != tc.want {
			t.Errorf("HealthURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if health, _, err := openclaw.GatewayHTTPURLs(tc.in); err == nil && health != got {
			t.Errorf("%q: health check at %q but restart readiness next to %q", tc.in, got, health)
		}
	}
}
