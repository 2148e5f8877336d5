package openclaw

import (
	"strings"
	"testing"
)

// Every method's config keys belong to it alone, and every key
// RestartSpec can set belongs to a method.
func TestRestartRulesKeys(t *testing.T) {
	owner := map[string]string{}
	for _, m := range restartRules {
		for _, k := range m.keys {
			if o, ok := owner[k]; ok {
				t.Errorf("key %q claimed by methods %s and %s", k, o, m.name)
			}
			owner[k] = m.name
		}
		if m.check != nil {
			_ = m.check(RestartSpec{Method: m.name}) // must not panic on the empty spec
		}
	}
	for _, k := range (RestartSpec{Unit: "u", Command: []string{"c"}}).set() {
		if owner[k] == "" {
			t.Errorf("restart key %q is used by no method", k)
		}
	}
}

// CheckRestart: the config-time rules of each method, and keys set for a
// method that does not use them.
func TestCheckRestart(t *testing.T) {
	cases := []struct {
		spec RestartSpec
		want []string // "key msg-fragment"
	}{
		{RestartSpec{Method: "systemd"}, []string{"unit is missing"}},
		{RestartSpec{Method: "systemd", Unit: "openclaw-gateway.service"}, nil},
		{RestartSpec{Method: "systemd", Unit: `openclaw\x2dgateway.service`}, nil},
		{RestartSpec{Method: "systemd", Unit: "x y"}, []string{"unit is not a systemd unit name"}},
		{RestartSpec{Method: "systemd", Unit: "-Hroot@evil.example"}, []string{"unit is not a systemd unit name"}},
		{RestartSpec{Method: "rpc", Unit: "x.service"}, []string{"unit is only used with method systemd"}},
		{RestartSpec{Unit: "x.service"}, []string{"unit is only used with method systemd"}},
		{RestartSpec{Method: "command"}, []string{"command is missing"}},
		{RestartSpec{Method: "command", Command: []string{"/bin/true"}}, nil},
		{RestartSpec{Method: "systemd", Command: []string{"/bin/true"}}, []string{"unit is missing", "command is only used with method command"}},
		{RestartSpec{Method: "ssh", Unit: "x"}, []string{"unit is only used with method systemd"}},
	}
	for _, c := range cases {
		got := CheckRestart(c.spec)
		if len(got) != len(c.want) {
			t.Errorf("%+v: %+v, want %v", c.spec, got, c.want)
			continue
		}
		for i, w := range c.want {
			key, frag, _ := strings.Cut(w, " ")
			if got[i].Key != key || !strings.Contains(got[i].Msg, strings.TrimPrefix(frag, "is ")) {
				t.Errorf("%+v: problem %d = %+v, want %q", c.spec, i, got[i], w)
			}
		}
	}
}

func TestRestartGatewayHTTPURLs(t *testing.T) {
	cases := []struct{ in, health, ready string }{
		{"ws://127.0.0.1:18789", "http://127.0.0.1:18789/healthz", "http://127.0.0.1:18789/readyz"},
		{"wss://user:pw@gw.example/openclaw/?token=x#f", "https://gw.example/openclaw/healthz", "https://gw.example/openclaw/readyz"},
		{"http://[::1]:18789/", "http://[::1]:18789/healthz", "http://[::1]:18789/readyz"},
	}
	for _, c := range cases {
		h, r, err := GatewayHTTPURLs(c.in)
		if err != nil || h != c.health || r != c.ready {
			t.Errorf("GatewayHTTPURLs(%q) = %q, %q, %v", c.in, h, r, err)
		}
	}
	for _, bad := range []string{"ftp://x", "ws://", "127.0.0.1:18789"} {
		if _, _, err := GatewayHTTPURLs(bad); err == nil {
			t.Errorf("GatewayHTTPURLs(%q) accepted", bad)
		}
	}
}
