package change

import (
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"os"
	"regexp"
	"strings"
	"testing"
)

// Every restart method is complete: a name of its own, a privilege to
// describe, a validation that refuses an empty configuration, config keys
// that no other method claims, and a line in the README's and deploy doc's
// method tables. A method added to restartMethods without one of these
// fails here.
func TestRestartMethodsComplete(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	deploy, err := os.ReadFile("../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	seen, owner := map[string]bool{}, map[string]string{}
	for _, m := range restartMethods {
		name := m.name()
		if !regexp.MustCompile(`^[a-z][a-z0-9-]*$`).MatchString(name) || seen[name] {
			t.Errorf("method name %q: empty, not lower-case or taken twice", name)
		}
		seen[name] = true
		if d := m.describe(); len(d) < 20 || strings.Contains(d, "unknown") || DescribeRestart(name) != d {
			t.Errorf("method %s: Describe = %q; say which privilege it needs", name, d)
		}
		// Nothing configured: the method's own validation must object
		// (a method that validates nothing would run with anything).
		if probs := m.validate(&Restarter{Method: name, LookPath: func(string) (string, error) { return "", os.ErrNotExist }}); len(probs) == 0 {
			t.Errorf("method %s: validate accepts an empty configuration", name)
		}
		for _, k := range m.keys() {
			if o, ok := owner[k]; ok {
				t.Errorf("key %q claimed by methods %s and %s", k, o, name)
			}
			owner[k] = name
		}
		_ = m.check(RestartSpec{Method: name}) // must not panic on the empty spec
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README.md does not document restart method `%s`", name)
		}
		if !strings.Contains(string(deploy), "`"+name+"`") {
			t.Errorf("docs/deploy.md does not mention restart method `%s`", name)
		}
		if _, err := (&Restarter{Method: name}).method(); err != nil {
			t.Errorf("method %s is not selectable: %v", name, err)
		}
	}
	// Every key RestartSpec can set belongs to a method.
	for _, k := range (RestartSpec{Unit: "u", Command: []string{"c"}}).set() {
		if owner[k] == "" {
			t.Errorf("restart key %q is used by no method", k)
		}
	}
	if len(openclaw.RestartMethods) != len(restartMethods) {
		t.Errorf("RestartMethods %v is not the registry", openclaw.RestartMethods)
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
