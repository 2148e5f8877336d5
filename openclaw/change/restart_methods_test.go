package change

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// Every restart method is complete: a name of its own, a privilege to
// describe, a validation that refuses an empty configuration, and a line in the README's and deploy doc's
// method tables. A method added to restartMethods without one of these
// fails here.
func TestRestartMethodsComplete(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	deploy, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
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
	// The registry is exactly the methods the config accepts, in order
	// (openclaw.TestRestartRulesKeys checks their keys).
	var names []string
	for _, m := range restartMethods {
		names = append(names, m.name())
	}
	if !slices.Equal(names, openclaw.RestartMethods) {
		t.Errorf("openclaw.RestartMethods %v is not the registry %v", openclaw.RestartMethods, names)
	}
}
