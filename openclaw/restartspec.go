package openclaw

// restartspec.go — what the bot config may say about a gateway restart
// (targets[].restart), checked from the config alone. The restart itself is
// package openclaw/change (Restarter); its registry of methods must list
// exactly RestartMethods (change.TestRestartMethodsComplete).

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/internal/text"
)

// Restart methods (the values of targets[].restart.method).
const (
	RestartMethodRPC           = "rpc"
	RestartMethodSystemd       = "systemd"
	RestartMethodDockerCompose = "docker-compose"
	RestartMethodOpenClaw      = "openclaw"
	RestartMethodSignal        = "signal"
	RestartMethodCommand       = "command"
)

// restartRule is the config-time side of one restart method.
type restartRule struct {
	name string
	// keys are the targets[].restart keys only this method uses.
	keys []string
	// check reports what is wrong in the config alone (nothing is looked
	// up), the problems of keys this method uses; nil: nothing to check.
	check func(RestartSpec) []RestartProblem
}

// restartRules is every method, in the order the README documents them.
var restartRules = []restartRule{
	{name: RestartMethodRPC},
	{name: RestartMethodSystemd, keys: []string{"unit"}, check: checkSystemdSpec},
	{name: RestartMethodDockerCompose},
	{name: RestartMethodOpenClaw},
	{name: RestartMethodSignal},
	{name: RestartMethodCommand, keys: []string{"command"}, check: checkCommandSpec},
}

// RestartMethods lists every method's name, in the order the README
// documents them.
var RestartMethods = func() []string {
	names := make([]string, len(restartRules))
	for i, m := range restartRules {
		names[i] = m.name
	}
	return names
}()

// IsRestartMethod reports whether name is a restart method (any case) and
// returns its canonical form.
func IsRestartMethod(name string) (string, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	return name, slices.Contains(RestartMethods, name)
}

func lookupRestartRule(name string) (restartRule, bool) {
	name, _ = IsRestartMethod(name)
	for _, m := range restartRules {
		if m.name == name {
			return m, true
		}
	}
	return restartRule{}, false
}

// RestartSpec is what the bot config says about one target's restart
// (targets[].restart): what CheckRestart validates.
type RestartSpec struct {
	Method  string
	Unit    string
	Command []string
}

// set lists the method-specific keys spec sets, in key order.
func (s RestartSpec) set() []string {
	var keys []string
	if s.Unit != "" {
		keys = append(keys, "unit")
	}
	if len(s.Command) > 0 {
		keys = append(keys, "command")
	}
	return keys
}

// RestartProblem is one problem CheckRestart found: Key is the
// targets[].restart key ("unit"), Msg follows the key's path in the message
// (" is missing; …" or ": \"x y\" is not …"), Near is the key whose line
// to show when Key itself is not in the file ("method").
type RestartProblem struct {
	Key, Msg, Near string
}

// CheckRestart validates a target's restart settings from the config alone
// (the method itself, an unknown one included, is the config's to check):
// keys the method does not use, and each method's own rules.
func CheckRestart(spec RestartSpec) []RestartProblem {
	m, known := lookupRestartRule(spec.Method)
	var probs []RestartProblem
	for _, key := range spec.set() {
		if known && slices.Contains(m.keys, key) {
			continue
		}
		for _, o := range restartRules {
			if slices.Contains(o.keys, key) {
				probs = append(probs, RestartProblem{Key: key, Msg: fmt.Sprintf(" is only used with method %s; set method: %s or remove %s", o.name, o.name, key)})
				break
			}
		}
	}
	if known && m.check != nil {
		probs = append(probs, m.check(spec)...)
	}
	order := map[string]int{"unit": 1, "command": 2}
	slices.SortStableFunc(probs, func(a, b RestartProblem) int { return order[a.Key] - order[b.Key] })
	return probs
}

func checkSystemdSpec(s RestartSpec) []RestartProblem {
	switch {
	case s.Unit == "":
		return []RestartProblem{{Key: "unit", Near: "method", Msg: " is missing; method systemd needs the unit to restart, e.g. openclaw-gateway.service"}}
	case CheckUnit(s.Unit) != nil:
		return []RestartProblem{{Key: "unit", Msg: fmt.Sprintf(": %q is not a systemd unit name; write e.g. openclaw-gateway.service", text.Truncate(redact.String(s.Unit), 80))}}
	}
	return nil
}

func checkCommandSpec(s RestartSpec) []RestartProblem {
	if len(s.Command) == 0 || strings.TrimSpace(s.Command[0]) == "" {
		return []RestartProblem{{Key: "command", Near: "method", Msg: ` is missing; method command needs the program and its arguments as a list, e.g. ["/usr/local/bin/restart-openclaw", "--now"]`}}
	}
	return nil
}

// systemd unit names ("\\" for systemd's escapes such as \x2d).
var unitRE = regexp.MustCompile(`^[A-Za-z0-9@._:\\-]+$`)

// CheckUnit says what is wrong with a systemd unit name, or nil.
func CheckUnit(unit string) error {
	switch {
	case unit == "":
		return errors.New("method systemd needs the unit, e.g. openclaw-gateway.service")
	case len(unit) > 256 || !unitRE.MatchString(unit):
		return fmt.Errorf("unit %q is not a systemd unit name (letters, digits and @ . _ : \\ - only)", text.Truncate(redact.String(unit), 41))
	case strings.HasPrefix(unit, "-"):
		return fmt.Errorf("unit %q starts with '-' and would be read as an option", text.Truncate(unit, 41))
	}
	return nil
}

// GatewayHTTPURLs turns a gateway URL (targets[].gateway_url, e.g.
// ws://127.0.0.1:18789) into its /healthz and /readyz URLs. ws becomes
// http, wss https; user info, query and fragment are dropped.
func GatewayHTTPURLs(gatewayURL string) (health, ready string, err error) {
	u, err := url.Parse(strings.TrimSpace(gatewayURL))
	if err != nil {
		return "", "", fmt.Errorf("gateway URL: %v", err)
	}
	switch u.Scheme {
	case "ws", "http":
		u.Scheme = "http"
	case "wss", "https":
		u.Scheme = "https"
	default:
		return "", "", fmt.Errorf("gateway URL %q: scheme must be ws, wss, http or https", redact.String(gatewayURL))
	}
	if u.Host == "" {
		return "", "", fmt.Errorf("gateway URL %q has no host", redact.String(gatewayURL))
	}
	u.User, u.RawQuery, u.Fragment, u.RawFragment, u.RawPath = nil, "", "", "", ""
	base := strings.TrimSuffix(u.Path, "/")
	u.Path = base + "/healthz"
	health = u.String()
	u.Path = base + "/readyz"
	return health, u.String(), nil
}
