package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// envMap is a getenv backed by a map.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func parseString(t *testing.T, src string, env map[string]string) (*Config, error) {
	t.Helper()
	return Parse([]byte(src), "config.yaml", envMap(env))
}

func mustParse(t *testing.T, src string, env map[string]string) *Config {
	t.Helper()
	c, err := parseString(t, src, env)
	if err != nil {
		t.Fatalf("Parse failed:\n%v\ninput:\n%s", err, src)
	}
	return c
}

// plain drops the bookkeeping (positions) so Configs compare by content.
func plain(c *Config) Config {
	out := *c
	out.pos, out.failed = nil, nil
	return out
}

// AssertNoSecretLeak fails when any of the secrets appears in any output.
func AssertNoSecretLeak(t *testing.T, secrets []string, outputs map[string]string) {
	t.Helper()
	for name, out := range outputs {
		for _, s := range secrets {
			if s != "" && strings.Contains(out, s) {
				t.Errorf("secret %q leaked in %s:\n%s", s, name, out)
			}
		}
	}
}

// renderings is every way a Config is commonly printed.
func renderings(t *testing.T, c *Config) map[string]string {
	t.Helper()
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"%v":           fmt.Sprintf("%v", c),
		"%+v":          fmt.Sprintf("%+v", c),
		"%#v":          fmt.Sprintf("%#v", c),
		"%+v value":    fmt.Sprintf("%+v", *c),
		"%v target":    fmt.Sprintf("%v", c.Targets[0]),
		"%+v slack":    fmt.Sprintf("%+v", c.Slack),
		"%#v telegram": fmt.Sprintf("%#v", c.Telegram),
		"json":         string(j),
		"yaml":         string(y),
	}
}

func problemsOf(t *testing.T, err error) []*Error {
	t.Helper()
	ps := Problems(err)
	if err != nil && len(ps) == 0 {
		t.Fatalf("error without *Error problems: %v", err)
	}
	return ps
}

func TestDefaults(t *testing.T) {
	d := Default()
	if err := d.Validate(); err != nil {
		t.Fatalf("Default() does not validate: %v", err)
	}
	want := Config{
		Store:     Store{Driver: "sqlite", Path: "./openclaw-bot.db"},
		HTTP:      HTTP{Listen: "127.0.0.1:8080"},
		Anthropic: Anthropic{BaseURL: "https://api.anthropic.com", KeyCheckEvery: 15 * time.Minute},
		Targets:   []Target{{Name: "local", OpenClawBin: "openclaw", ComposeService: "openclaw-gateway"}},
		Slack:     Slack{Mode: "socket", APIURL: "https://slack.com/api/"},
		Telegram:  Telegram{Mode: "polling", APIURL: "https://api.telegram.org", Timezone: "UTC"},
		Scheduler: Scheduler{SnapshotEvery: 30 * time.Second, HealthzEvery: time.Minute, ReadTimeout: 5 * time.Second, OpenClawLogDir: "/tmp/openclaw"},
		Alerts:    Alerts{ReminderEvery: 4 * time.Hour},
		Log:       Log{Level: "info", Format: "auto"},
		Fleet:     Fleet{HeartbeatEvery: 10 * time.Second},
	}
	if got := plain(d); !reflect.DeepEqual(got, want) {
		t.Fatalf("Default() =\n%+v\nwant\n%+v", got, want)
	}
	if d.Slack.Enabled() || d.Telegram.Enabled() {
		t.Error("chat surfaces enabled by default; the console is the default chat")
	}
	if d.Targets[0].StateDir != "" {
		t.Error("default target must locate the install like OpenClaw (empty state_dir)")
	}

	l, err := Load("")
	if err != nil || !reflect.DeepEqual(plain(l), want) {
		t.Fatalf("Load(\"\") = %+v, %v; want the defaults", l, err)
	}

	// Files that hold no settings mean "all defaults".
	for _, src := range []string{"", "\n", "# only a comment\n", "---\n", "---\n---\n", "log:\n---\n", "~\n", "null\n", "store:\n", "targets: []\n", "targets:\n"} {
		c, err := parseString(t, src, nil)
		if err != nil {
			t.Errorf("Parse(%q): %v", src, err)
			continue
		}
		got := plain(c)
		got.File = ""
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q) =\n%+v\nwant the defaults", src, got)
		}
	}
}

const fullFile = `
store:
  path: /var/lib/openclaw-bot/state.db
http:
  listen: 0.0.0.0:9090
metrics:
  listen: 127.0.0.1:9091
anthropic:
  base_url: http://127.0.0.1:4000/
  key_check_every: 1h
  check_tokens: true
targets:
  - name: prod
    state_dir: /srv/openclaw/state
    openclaw_config: /srv/openclaw/state/openclaw.json
    openclaw_bin: /usr/local/bin/openclaw
    anthropic_base_url: https://proxy.example.com/anthropic/
    gateway_url: wss://gw.example.com
    gateway_token: ${GW_TOKEN}
    agent_dir: /srv/openclaw/agent
    compose_file: /srv/openclaw/compose.yaml
    compose_service: gateway
    restart:
      method: docker-compose
  - name: dev.box_2
    openclaw_profile: dev
    gateway_token: literal-gateway-token
    restart:
      method: command
      command: [/usr/local/bin/restart, --now]
  - name: sys
    restart: {method: systemd, unit: openclaw-gateway.service}
slack:
  mode: http
  bot_token: ${SLACK_BOT}
  signing_secret: ${SLACK_SIGN}
  api_url: http://localhost:8081/api
  alert_channel: C0123456789
telegram:
  mode: webhook
  token: ${TG_TOKEN}
  api_url: https://tg.example.com/
  webhook_url: https://bot.example.com/telegram/webhook
  webhook_secret: ${TG_HOOK}
  alert_chat: "-1001234567890"
  timezone: Europe/Berlin
access:
  viewers: [U0VIEW, "111"]
  responders: [U0RESP]
  admins: [U0ADMIN, 222]
  slack_channels: [C0123456789, C0OTHER]
  telegram_chats: ["-1001234567890"]
scheduler:
  snapshot_every: 10s
  healthz_every: 2m
alerts:
  reminder_every: 30m
log:
  level: DEBUG
  format: json
`

var fullEnv = map[string]string{
	"GW_TOKEN":   "gw-token-from-env-0001",
	"SLACK_BOT":  "xoxb-bot-from-env-0002",
	"SLACK_SIGN": "signing-from-env-0003",
	"TG_TOKEN":   "123456:tg-token-from-env-0004",
	"TG_HOOK":    "hook_secret-from-env-0005",
}

func TestFullFile(t *testing.T) {
	c := mustParse(t, fullFile, fullEnv)
	want := Config{
		File:      "config.yaml",
		Store:     Store{Driver: "sqlite", Path: "/var/lib/openclaw-bot/state.db"},
		HTTP:      HTTP{Listen: "0.0.0.0:9090"},
		Metrics:   Metrics{Listen: "127.0.0.1:9091"},
		Anthropic: Anthropic{BaseURL: "http://127.0.0.1:4000", KeyCheckEvery: time.Hour, CheckTokens: true},
		Targets: []Target{
			{
				Name: "prod", StateDir: "/srv/openclaw/state", OpenClawConfig: "/srv/openclaw/state/openclaw.json",
				OpenClawBin: "/usr/local/bin/openclaw", AnthropicBaseURL: "https://proxy.example.com/anthropic",
				GatewayURL: "wss://gw.example.com", GatewayToken: "gw-token-from-env-0001",
				AgentDir: "/srv/openclaw/agent", ComposeFile: "/srv/openclaw/compose.yaml", ComposeService: "gateway",
				Restart: Restart{Method: "docker-compose"},
			},
			{
				Name: "dev.box_2", OpenClawProfile: "dev", GatewayToken: "literal-gateway-token",
				OpenClawBin: "openclaw", ComposeService: "openclaw-gateway",
				Restart: Restart{Method: "command", Command: []string{"/usr/local/bin/restart", "--now"}},
			},
			{
				Name: "sys", OpenClawBin: "openclaw", ComposeService: "openclaw-gateway",
				Restart: Restart{Method: "systemd", Unit: "openclaw-gateway.service"},
			},
		},
		Slack: Slack{
			Mode: "http", BotToken: "xoxb-bot-from-env-0002", SigningSecret: "signing-from-env-0003",
			APIURL: "http://localhost:8081/api/", AlertChannel: "C0123456789",
		},
		Telegram: Telegram{
			Mode: "webhook", Token: "123456:tg-token-from-env-0004", APIURL: "https://tg.example.com",
			WebhookURL: "https://bot.example.com/telegram/webhook", WebhookSecret: "hook_secret-from-env-0005",
			AlertChat: "-1001234567890", Timezone: "Europe/Berlin",
		},
		Access: Access{
			Viewers: []string{"U0VIEW", "111"}, Responders: []string{"U0RESP"}, Admins: []string{"U0ADMIN", "222"},
			SlackChannels: []string{"C0123456789", "C0OTHER"}, TelegramChats: []string{"-1001234567890"},
		},
		Scheduler: Scheduler{SnapshotEvery: 10 * time.Second, HealthzEvery: 2 * time.Minute, ReadTimeout: 5 * time.Second, OpenClawLogDir: "/tmp/openclaw"},
		Alerts:    Alerts{ReminderEvery: 30 * time.Minute},
		Log:       Log{Level: "debug", Format: "json"},
		Fleet:     Fleet{HeartbeatEvery: 10 * time.Second},
	}
	// The one secret written literally is warned about (TestLiteralSecretWarnings).
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "targets[1].gateway_token is written literally") {
		t.Errorf("warnings %q", c.Warnings)
	}
	want.Warnings = c.Warnings
	if got := plain(c); !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", " ")
		wj, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("got\n%s\nwant\n%s\n(secrets compare too: %v)", gj, wj, secretsEqual(got, want))
	}
	if !c.Slack.Enabled() || !c.Telegram.Enabled() {
		t.Error("Slack and Telegram should be enabled")
	}
	if loc := c.Telegram.Location(); loc.String() != "Europe/Berlin" {
		t.Errorf("Location() = %v", loc)
	}
	if tg, ok := c.Target("dev.box_2"); !ok || tg.OpenClawProfile != "dev" {
		t.Errorf("Target(dev.box_2) = %v, %v", tg, ok)
	}
	if _, ok := c.Target("nope"); ok {
		t.Error("Target(nope) found")
	}
	if tg, _ := c.Target("sys"); tg != &c.Targets[2] {
		t.Error("Target must point into the config, not at a copy")
	}
	if got := c.Line("slack.mode"); got != 34 {
		t.Errorf("Line(slack.mode) = %d, want 34", got)
	}
	if got := c.Line("targets[1].name"); got != 25 {
		t.Errorf("Line(targets[1].name) = %d, want 25", got)
	}
	vals := c.SecretValues()
	if len(vals) != 6 {
		t.Errorf("SecretValues() has %d values, want 6", len(vals))
	}
	secrets := append(vals[:0:0], vals...)
	AssertNoSecretLeak(t, secrets, renderings(t, c))
}

func secretsEqual(a, b Config) bool {
	return a.Slack.BotToken == b.Slack.BotToken && a.Slack.SigningSecret == b.Slack.SigningSecret &&
		a.Telegram.Token == b.Telegram.Token && a.Telegram.WebhookSecret == b.Telegram.WebhookSecret
}

// wantProblem is one expected problem: its line and text fragments.
type wantProblem struct {
	line int
	key  string
	msg  []string
}

func checkProblems(t *testing.T, err error, want []wantProblem) {
	t.Helper()
	got := problemsOf(t, err)
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(got), len(want), err)
	}
	for i, w := range want {
		g := got[i]
		if g.Line != w.line {
			t.Errorf("problem %d: line %d, want %d: %v", i, g.Line, w.line, g)
		}
		if w.key != "" && g.Key != w.key {
			t.Errorf("problem %d: key %q, want %q: %v", i, g.Key, w.key, g)
		}
		for _, m := range w.msg {
			if !strings.Contains(g.Error(), m) {
				t.Errorf("problem %d: %q does not contain %q", i, g.Error(), m)
			}
		}
		if w.line > 0 && !strings.HasPrefix(g.Error(), fmt.Sprintf("config.yaml:%d: ", w.line)) {
			t.Errorf("problem %d: %q does not start with config.yaml:%d:", i, g.Error(), w.line)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []wantProblem
	}{
		{"unknown key with suggestion", "slack:\n  mode: socket\n  bot_tokn: x\n",
			[]wantProblem{{3, "slack.bot_tokn", []string{`config.yaml:3: unknown key "bot_tokn" in slack (did you mean "bot_token"?)`}}}},
		{"unknown key transposition", "anthropic:\n  base_rul: https://x\n",
			[]wantProblem{{2, "", []string{`unknown key "base_rul" in anthropic (did you mean "base_url"?)`}}}},
		{"unknown key case and dash", "telegram:\n  Alert-Chat: 1\n",
			[]wantProblem{{2, "", []string{`unknown key "Alert-Chat" in telegram (did you mean "alert_chat"?)`}}}},
		{"unknown section with suggestion", "store:\n  path: x.db\nslak:\n  mode: socket\n",
			[]wantProblem{{3, "slak", []string{`unknown key "slak" at the top level (did you mean "slack"?)`}}}},
		{"unknown key in a target", "targets:\n  - name: a\n  - name: b\n    stat_dir: /x\n",
			[]wantProblem{{4, "targets[1].stat_dir", []string{`unknown key "stat_dir" in targets[1] (did you mean "state_dir"?)`}}}},
		{"unknown key in restart", "targets:\n  - name: a\n    restart:\n      metod: rpc\n",
			[]wantProblem{{4, "", []string{`unknown key "metod" in targets[0].restart (did you mean "method"?)`}}}},
		{"key in the wrong section", "alert_channel: C1\n",
			[]wantProblem{{1, "", []string{`unknown key "alert_channel" at the top level ("alert_channel" belongs under slack)`}}}},
		{"unknown key without suggestion", "log:\n  colour: true\n",
			[]wantProblem{{2, "", []string{`unknown key "colour" in log; known keys here: level, format`}}}},
		{"several unknown keys at once", "slack:\n  bot_tokn: x\n  app_tokn: y\nlog:\n  lvl: info\n",
			[]wantProblem{{2, "", []string{`"bot_tokn"`}}, {3, "", []string{`"app_tokn"`}}, {5, "", []string{`"lvl" in log (did you mean "level"?)`}}}},

		{"duration without unit", "anthropic:\n  key_check_every: 15\n",
			[]wantProblem{{2, "anthropic.key_check_every", []string{"anthropic.key_check_every: 15 has no unit; write a Go duration such as 90s"}}}},
		{"duration words", "\nalerts:\n  reminder_every: 5 minutes\n",
			[]wantProblem{{3, "", []string{`alerts.reminder_every: "5 minutes" is not a duration`}}}},
		{"duration days", "alerts:\n  reminder_every: 1d\n",
			[]wantProblem{{2, "", []string{"no days unit; write hours, e.g. 24h"}}}},
		{"negative duration", "scheduler:\n  healthz_every: -1m\n",
			[]wantProblem{{2, "", []string{"scheduler.healthz_every: -1m is negative"}}}},
		{"duration as a list", "scheduler:\n  snapshot_every: [1s]\n",
			[]wantProblem{{2, "", []string{"scheduler.snapshot_every: expected a duration", "got a list"}}}},
		{"recovery bool", "\nrecovery:\n  reset_after_rotation: sometimes\n",
			[]wantProblem{{3, "recovery.reset_after_rotation", []string{`recovery.reset_after_rotation: expected true or false, got "sometimes"`}}}},
		{"recovery unknown key", "recovery:\n  reset_after_rotate: true\n",
			[]wantProblem{{2, "", []string{`unknown key "reset_after_rotate" in recovery; known keys here: reset_after_rotation`}}}},
		{"bool", "anthropic:\n  check_tokens: maybe\n",
			[]wantProblem{{2, "anthropic.check_tokens", []string{`anthropic.check_tokens: expected true or false, got "maybe"`}}}},
		{"list expected", "access:\n  viewers: U0123\n",
			[]wantProblem{{2, "access.viewers", []string{`access.viewers: expected a list, e.g. ["U0123ABCD", "123456789"], got "U0123"`}}}},
		{"targets not a list", "targets: local\n",
			[]wantProblem{{1, "targets", []string{`targets: expected a list, got "local"`}}}},
		{"section not a mapping", "slack: [a, b]\n",
			[]wantProblem{{1, "slack", []string{"slack: expected a mapping of keys (key: value lines), got a list"}}}},
		{"scalar expected", "store:\n  path:\n    nested: x\n",
			[]wantProblem{{3, "store.path", []string{"store.path: expected a single value, got a mapping"}}}},
		{"target not a mapping", "targets:\n  - local\n",
			[]wantProblem{{2, "targets[0]", []string{`targets[0]: expected a mapping of keys (key: value lines), got "local"`}}}},
		{"top level not a mapping", "- 1\n- 2\n",
			[]wantProblem{{1, "", []string{"top level: expected a mapping"}}}},
		{"unsupported tag", "log:\n  level: !!binary aW5mbw==\n",
			[]wantProblem{{2, "", []string{"log.level: the YAML tag !!binary is not supported here"}}}},

		{"duplicate key", "slack:\n  mode: socket\n  alert_channel: C1\n  mode: http\n",
			[]wantProblem{{4, "slack.mode", []string{`config.yaml:4: duplicate key "mode" in slack (first set at line 2); keep only one`}}}},
		{"duplicate section", "log:\n  level: info\nlog:\n  level: debug\n",
			[]wantProblem{{3, "log", []string{`duplicate key "log" at the top level (first set at line 1)`}}}},
		{"duplicate key in a target", "targets:\n  - name: a\n    name: b\n",
			[]wantProblem{{3, "", []string{`duplicate key "name" in targets[0] (first set at line 2)`}}}},

		// Syntax errors carry the line the YAML parser reports (where the broken construct starts).
		{"syntax error", "log: {level: info}\nslack:\n  mode: [socket\n",
			[]wantProblem{{3, "", []string{"config.yaml:3: invalid YAML: did not find expected ',' or ']'"}}}},
		{"syntax error in a block", "log: {level: info}\nslack:\n  mode: socket\n bot_token: x\n",
			[]wantProblem{{4, "", []string{"config.yaml:4: invalid YAML: did not find expected key"}}}},
		{"flow mapping not closed", "log: {level: info\n", // found at the end of the file
			[]wantProblem{{2, "", []string{"config.yaml:2: invalid YAML: did not find expected ',' or '}'"}}}},
		{"mapping value in a scalar", "a: 1\nb: x: y\n",
			[]wantProblem{{2, "", []string{"config.yaml:2: invalid YAML: mapping values are not allowed in this context"}}}},
		{"tab indentation", "slack:\n\tmode: socket\n",
			[]wantProblem{{2, "", []string{"config.yaml:2: invalid YAML: found character that cannot start any token"}}}},
		{"two documents", "log: {level: info}\n---\nlog: {level: debug}\n",
			[]wantProblem{{2, "", []string{"more than one YAML document"}}}},
		{"alias cycle through merge", "slack: &s\n  <<: *s\n",
			[]wantProblem{{1, "", []string{"refers to the mapping that contains it"}}}},
		{"merge of a scalar", "slack:\n  <<: x\n",
			[]wantProblem{{2, "", []string{"a merge key (<<) takes a mapping"}}}},
		{"non-scalar key", "slack:\n  ? [a]\n  : x\n",
			[]wantProblem{{2, "", []string{"keys must be plain words"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseString(t, tt.src, nil)
			if err == nil {
				t.Fatalf("no error; got %+v", c)
			}
			if c != nil {
				t.Error("a failed Parse must return a nil *Config")
			}
			checkProblems(t, err, tt.want)
		})
	}
}

func TestAliasesAndMerge(t *testing.T) {
	src := `
targets:
  - &base
    name: a
    openclaw_bin: /opt/openclaw
    gateway_token: ${GW}
  - <<: *base
    name: b
access:
  admins: &admins [U1, U2]
  responders: *admins
`
	c := mustParse(t, src, map[string]string{"GW": "gateway-secret-xyz"})
	if len(c.Targets) != 2 || c.Targets[1].Name != "b" || c.Targets[1].OpenClawBin != "/opt/openclaw" ||
		c.Targets[1].GatewayToken.Reveal() != "gateway-secret-xyz" {
		t.Fatalf("merge not applied: %+v", c.Targets)
	}
	if !reflect.DeepEqual(c.Access.Responders, []string{"U1", "U2"}) {
		t.Fatalf("alias not followed: %v", c.Access.Responders)
	}
	// A self-referencing list must not hang or panic.
	if _, err := parseString(t, "targets: &a [*a, *a]\n", nil); err == nil {
		t.Fatal("want an error")
	}
}

// A small file whose aliases and merge keys expand exponentially is refused
// quickly instead of hanging the bot.
func TestAliasBomb(t *testing.T) {
	src := "x0: &a0 {mode: socket}\n"
	for i := 1; i <= 30; i++ {
		src += fmt.Sprintf("x%d: &a%d {<<: [*a%d, *a%d]}\n", i, i, i-1, i-1)
	}
	src += "slack: *a30\n"
	start := time.Now()
	_, err := parseString(t, src, nil)
	if err == nil || !strings.Contains(err.Error(), "too much data through YAML aliases") {
		t.Fatalf("want the expansion refused, got %v", err)
	}
	if len(Problems(err)) > maxErrors+1 {
		t.Errorf("%d problems reported; want at most %d", len(Problems(err)), maxErrors+1)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestEnvSecrets(t *testing.T) {
	env := map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-from-env-1111",
		"lower_name":      "app-from-env-2222",
		"CHAN":            "C-FROM-ENV",
		"HOME":            "/home/someone",
	}
	tests := []struct {
		name, src string
		check     func(t *testing.T, c *Config)
	}{
		{"whole value", "slack:\n  bot_token: ${SLACK_BOT_TOKEN}\n  app_token: xapp-1\n  alert_channel: C1\n", func(t *testing.T, c *Config) {
			if got := c.Slack.BotToken.Reveal(); got != "xoxb-from-env-1111" {
				t.Errorf("bot_token = %q", got)
			}
		}},
		{"lower-case variable name", "slack:\n  signing_secret: '${lower_name}'\n", func(t *testing.T, c *Config) {
			if got := c.Slack.SigningSecret.Reveal(); got != "app-from-env-2222" {
				t.Errorf("signing_secret = %q", got)
			}
		}},
		{"partial is literal", "slack:\n  signing_secret: pre${SLACK_BOT_TOKEN}\n", func(t *testing.T, c *Config) {
			if got := c.Slack.SigningSecret.Reveal(); got != "pre${SLACK_BOT_TOKEN}" {
				t.Errorf("signing_secret = %q, want it literally", got)
			}
		}},
		{"suffix is literal", "slack:\n  signing_secret: ${SLACK_BOT_TOKEN}x\n", func(t *testing.T, c *Config) {
			if got := c.Slack.SigningSecret.Reveal(); got != "${SLACK_BOT_TOKEN}x" {
				t.Errorf("signing_secret = %q, want it literally", got)
			}
		}},
		{"two references are literal", "slack:\n  signing_secret: ${SLACK_BOT_TOKEN}${CHAN}\n", func(t *testing.T, c *Config) {
			if got := c.Slack.SigningSecret.Reveal(); got != "${SLACK_BOT_TOKEN}${CHAN}" {
				t.Errorf("signing_secret = %q, want it literally", got)
			}
		}},
		{"dollar without braces is literal", "slack:\n  signing_secret: $SLACK_BOT_TOKEN\n", func(t *testing.T, c *Config) {
			if got := c.Slack.SigningSecret.Reveal(); got != "$SLACK_BOT_TOKEN" {
				t.Errorf("signing_secret = %q, want it literally", got)
			}
		}},
		{"literal with dollars is untouched", "slack:\n  signing_secret: 'pa$$word-$1'\n", func(t *testing.T, c *Config) {
			if got := c.Slack.SigningSecret.Reveal(); got != "pa$$word-$1" {
				t.Errorf("signing_secret = %q", got)
			}
		}},
		{"non-secret values are never expanded", "slack:\n  alert_channel: ${CHAN}\ntargets:\n  - name: a\n    state_dir: ${HOME}\n", func(t *testing.T, c *Config) {
			if c.Slack.AlertChannel != "${CHAN}" || c.Targets[0].StateDir != "${HOME}" {
				t.Errorf("non-secret values expanded: %q %q", c.Slack.AlertChannel, c.Targets[0].StateDir)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustParse(t, tt.src, env))
		})
	}
}

func TestEnvSecretUnset(t *testing.T) {
	env := map[string]string{"OTHER": "other-secret-value-9999", "EMPTY": ""}
	src := "slack:\n  bot_token: ${OTHER}\n  app_token: ${MISSING_APP_TOKEN}\n  alert_channel: C1\ntelegram:\n  token: ${EMPTY}\n"
	_, err := parseString(t, src, env)
	checkProblems(t, err, []wantProblem{
		{3, "slack.app_token", []string{"slack.app_token: environment variable MISSING_APP_TOKEN is not set", "app_token_file"}},
		{6, "telegram.token", []string{"telegram.token: environment variable EMPTY is not set (or is empty)"}},
	})
	// The missing app token is reported once, not again as "required in socket mode".
	AssertNoSecretLeak(t, []string{"other-secret-value-9999"}, map[string]string{"error": err.Error()})
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("bot", "xoxb-from-file-3333\n", 0o600)
	write("app", "xapp-from-file-4444\r\n\n", 0o600)
	abs := write("tg", "12345:tg-from-file-5555", 0o600)
	write("empty", "\n", 0o600)
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.yaml")

	parseIn := func(src string) (*Config, error) {
		return Parse([]byte(src), cfgPath, envMap(map[string]string{"X": "from-env-6666"}))
	}

	c, err := parseIn("slack:\n  bot_token_file: bot\n  app_token_file: ./app\n  alert_channel: C1\ntelegram:\n  token_file: " + abs + "\n  alert_chat: 1\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Slack.BotToken.Reveal() != "xoxb-from-file-3333" || c.Slack.AppToken.Reveal() != "xapp-from-file-4444" ||
		c.Telegram.Token.Reveal() != "12345:tg-from-file-5555" {
		t.Fatalf("secrets from files: %q %q %q", c.Slack.BotToken.Reveal(), c.Slack.AppToken.Reveal(), c.Telegram.Token.Reveal())
	}
	if c.Slack.BotTokenFile != "bot" {
		t.Errorf("BotTokenFile = %q", c.Slack.BotTokenFile)
	}
	AssertNoSecretLeak(t, c.SecretValues(), renderings(t, c))

	// Load resolves relative to the config file's directory too, wherever the working directory is.
	if err := os.WriteFile(cfgPath, []byte("targets:\n  - name: a\n    gateway_token_file: bot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lc, err := Load(cfgPath)
	if err != nil || lc.Targets[0].GatewayToken.Reveal() != "xoxb-from-file-3333" {
		t.Fatalf("Load: %v", err)
	}

	errCases := []struct {
		name string
		src  string
		want wantProblem
	}{
		{"missing file", "slack:\n  bot_token_file: nope\n", wantProblem{2, "slack.bot_token_file", []string{"slack.bot_token_file: cannot read the secret file", filepath.Join(dir, "nope"), "relative to the config file's directory"}}},
		{"empty file", "slack:\n  signing_secret_file: empty\n", wantProblem{2, "", []string{"slack.signing_secret_file: empty is empty"}}},
		{"directory", "telegram:\n  webhook_secret_file: adir\n", wantProblem{2, "", []string{"is not a regular file"}}},
		{"both forms", "slack:\n  bot_token: literal-value\n  bot_token_file: bot\n", wantProblem{3, "slack.bot_token_file", []string{"slack.bot_token and slack.bot_token_file are both set; keep only one"}}},
		{"both forms with env", "targets:\n  - name: a\n    gateway_token_file: bot\n    gateway_token: ${X}\n", wantProblem{3, "", []string{"targets[0].gateway_token and targets[0].gateway_token_file are both set"}}},
		{"file as a list", "slack:\n  bot_token_file: [a]\n", wantProblem{2, "", []string{"slack.bot_token_file: expected a single value, got a list"}}},
	}
	for _, tt := range errCases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseIn(tt.src)
			if err == nil {
				t.Fatal("no error")
			}
			checkProblemsFile(t, err, cfgPath, tt.want)
			AssertNoSecretLeak(t, []string{"xoxb-from-file-3333", "from-env-6666", "literal-value"}, map[string]string{"error": err.Error()})
		})
	}
}

func checkProblemsFile(t *testing.T, err error, file string, w wantProblem) {
	t.Helper()
	ps := problemsOf(t, err)
	if len(ps) != 1 {
		t.Fatalf("want 1 problem, got %d: %v", len(ps), err)
	}
	if ps[0].Line != w.line || ps[0].File != file {
		t.Errorf("at %s:%d, want %s:%d: %v", ps[0].File, ps[0].Line, file, w.line, err)
	}
	if w.key != "" && ps[0].Key != w.key {
		t.Errorf("key %q, want %q", ps[0].Key, w.key)
	}
	for _, m := range w.msg {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("%q does not contain %q", err.Error(), m)
		}
	}
}

func TestNumericIDs(t *testing.T) {
	src := `
telegram:
  token: ${TG}
  alert_chat: -1001234567890
access:
  viewers: [123456789, U0ABCDEF, "42"]
  admins:
    - 9007199254740993
  telegram_chats: [-1001234567890, 77]
`
	c := mustParse(t, src, map[string]string{"TG": "12345:token-value-abc"})
	if c.Telegram.AlertChat != "-1001234567890" {
		t.Errorf("alert_chat = %q", c.Telegram.AlertChat)
	}
	if want := []string{"123456789", "U0ABCDEF", "42"}; !reflect.DeepEqual(c.Access.Viewers, want) {
		t.Errorf("viewers = %q, want %q", c.Access.Viewers, want)
	}
	if want := []string{"9007199254740993"}; !reflect.DeepEqual(c.Access.Admins, want) { // beyond float64 precision
		t.Errorf("admins = %q, want %q", c.Access.Admins, want)
	}
	if want := []string{"-1001234567890", "77"}; !reflect.DeepEqual(c.Access.TelegramChats, want) {
		t.Errorf("telegram_chats = %q, want %q", c.Access.TelegramChats, want)
	}
}

func TestValidation(t *testing.T) {
	env := map[string]string{"TOKEN": "xoxb-valid-token", "APP": "xapp-valid-token", "TG": "123:tg", "XAPP": "xapp-wrong-place", "XOXB": "xoxb-wrong-place"}
	tests := []struct {
		name string
		src  string
		want []wantProblem
	}{
		// targets
		{"target name missing", "targets:\n  - state_dir: /x\n", []wantProblem{{2, "targets[0].name", []string{"targets[0].name is missing; give every target a short unique name"}}}},
		{"target name invalid", "targets:\n  - name: Prod Box\n", []wantProblem{{2, "targets[0].name", []string{`targets[0].name: "Prod Box" is not a valid target name; use lower-case letters`}}}},
		{"target name starts with dash", "targets:\n  - name: -x\n", []wantProblem{{2, "", []string{"not a valid target name"}}}},
		{"target names unique", "targets:\n  - name: a\n  - name: b\n  - name: a\n", []wantProblem{{4, "targets[2].name", []string{`targets[2].name: "a" is already the name of targets[0]; target names must be unique`}}}},
		{"state_dir and profile", "targets:\n  - name: a\n    state_dir: /x\n    openclaw_profile: dev\n", []wantProblem{{4, "targets[0].openclaw_profile", []string{"state_dir and openclaw_profile are both set; keep one"}}}},
		{"profile invalid", "targets:\n  - name: a\n    openclaw_profile: ../x\n", []wantProblem{{3, "", []string{`targets[0].openclaw_profile: "../x" is not a valid profile name`}}}},
		{"target base_url http", "targets:\n  - name: a\n    anthropic_base_url: http://proxy.example.com\n", []wantProblem{{3, "targets[0].anthropic_base_url", []string{"uses plain http:// to a non-loopback host; use https://"}}}},
		{"gateway_url scheme", "targets:\n  - name: a\n    gateway_url: ftp://x\n", []wantProblem{{3, "", []string{`targets[0].gateway_url: "ftp://x" is not a gateway URL; write e.g. ws://127.0.0.1:18789`}}}},
		{"compose_service", "targets:\n  - name: a\n    compose_service: my service\n", []wantProblem{{3, "", []string{"is not a docker compose service name"}}}},
		{"restart method", "targets:\n  - name: a\n    restart:\n      method: reboot\n", []wantProblem{{4, "targets[0].restart.method", []string{`targets[0].restart.method: "reboot" is not one of rpc, systemd, docker-compose, openclaw, signal, command`}}}},
		{"restart systemd without unit", "targets:\n  - name: a\n    restart:\n      method: systemd\n", []wantProblem{{4, "targets[0].restart.unit", []string{"targets[0].restart.unit is missing; method systemd needs the unit"}}}},
		{"restart unit without systemd", "targets:\n  - name: a\n    restart: {method: rpc, unit: x.service}\n", []wantProblem{{3, "", []string{"unit is only used with method systemd"}}}},
		{"restart unit invalid", "targets:\n  - name: a\n    restart: {method: systemd, unit: 'x y'}\n", []wantProblem{{3, "", []string{"is not a systemd unit name"}}}},
		{"restart command missing", "targets:\n  - name: a\n    restart:\n      method: command\n", []wantProblem{{4, "", []string{"targets[0].restart.command is missing; method command needs the program"}}}},
		{"restart command without method", "targets:\n  - name: a\n    restart: {command: [x]}\n", []wantProblem{{3, "", []string{"command is only used with method command"}}}},

		// slack
		{"slack mode", "slack:\n  mode: rtm\n", []wantProblem{{2, "slack.mode", []string{`slack.mode: "rtm" is not one of socket, http`}}}},
		{"slack socket needs app_token", "slack:\n  bot_token: ${TOKEN}\n  alert_channel: C1\n", []wantProblem{{2, "slack.app_token", []string{"slack.app_token is required in socket mode"}}}},
		{"slack http needs signing_secret", "slack:\n  mode: http\n  bot_token: ${TOKEN}\n  alert_channel: C1\n", []wantProblem{{2, "slack.signing_secret", []string{"slack.signing_secret is required in http mode"}}}},
		{"slack http needs http.listen", "http:\n  listen: ''\nslack:\n  mode: http\n  bot_token: ${TOKEN}\n  signing_secret: s3cr3t-sign\n  alert_channel: C1\n", []wantProblem{{2, "http.listen", []string{"http.listen is empty but slack.mode is http"}}}},
		{"slack alert_channel", "slack:\n  bot_token: ${TOKEN}\n  app_token: ${APP}\n", []wantProblem{{2, "slack.alert_channel", []string{"slack.alert_channel is missing"}}}},
		{"slack api_url http", "slack:\n  api_url: http://slack-proxy.internal/api/\n", []wantProblem{{2, "slack.api_url", []string{"plain http:// to a non-loopback host"}}}},
		{"slack api_url not a URL", "slack:\n  api_url: slack.com/api\n", []wantProblem{{2, "", []string{`slack.api_url: "slack.com/api/" is not an http(s) URL`}}}},
		{"slack api_url with credentials", "slack:\n  api_url: https://user:pw-9876@proxy/api/\n", []wantProblem{{2, "", []string{"contains a user name or password"}}}},
		{"slack tokens swapped", "slack:\n  bot_token: ${XAPP}\n  app_token: ${XOXB}\n  alert_channel: C1\n", []wantProblem{
			{2, "slack.bot_token", []string{"slack.bot_token holds an app-level token"}},
			{3, "slack.app_token", []string{"slack.app_token holds a bot token"}}}},

		// telegram
		{"telegram mode", "telegram:\n  mode: push\n", []wantProblem{{2, "", []string{`telegram.mode: "push" is not one of polling, webhook`}}}},
		{"telegram webhook needs url and secret", "telegram:\n  mode: webhook\n  token: ${TG}\n  alert_chat: '1'\n", []wantProblem{
			{2, "telegram.webhook_url", []string{"telegram.webhook_url is required in webhook mode"}},
			{2, "telegram.webhook_secret", []string{"telegram.webhook_secret is required in webhook mode"}}}},
		{"telegram webhook https", "telegram:\n  mode: webhook\n  token: ${TG}\n  alert_chat: '1'\n  webhook_url: http://127.0.0.1/hook\n  webhook_secret: abc\n", []wantProblem{{5, "", []string{"is not an https:// URL; Telegram only delivers webhooks over https"}}}},
		{"telegram webhook needs http.listen", "http: {listen: ''}\ntelegram:\n  mode: webhook\n  token: ${TG}\n  alert_chat: '1'\n  webhook_url: https://x/hook\n  webhook_secret: abc\n", []wantProblem{{1, "http.listen", []string{"http.listen is empty but telegram.mode is webhook"}}}},
		{"telegram webhook secret charset", "telegram:\n  webhook_secret: 'has space!'\n", []wantProblem{{2, "telegram.webhook_secret", []string{"telegram.webhook_secret may only contain A-Z, a-z, 0-9"}}}},
		{"telegram webhook_url in polling mode", "telegram:\n  webhook_url: https://x/hook\n", []wantProblem{{2, "", []string{`telegram.webhook_url is set but telegram.mode is "polling"`}}}},
		{"telegram alert_chat missing", "telegram:\n  token: ${TG}\n", []wantProblem{{2, "telegram.alert_chat", []string{"telegram.alert_chat is missing"}}}},
		{"telegram alert_chat invalid", "telegram:\n  token: ${TG}\n  alert_chat: general\n", []wantProblem{{3, "", []string{`telegram.alert_chat: "general" is not a chat id`}}}},
		{"telegram timezone", "telegram:\n  timezone: Mars/Olympus\n", []wantProblem{{2, "telegram.timezone", []string{`telegram.timezone: "Mars/Olympus" is not a known time zone`}}}},
		{"telegram api_url", "telegram:\n  api_url: http://tg.example.com\n", []wantProblem{{2, "telegram.api_url", []string{"plain http://"}}}},

		// urls, listeners, durations
		{"base_url http", "anthropic:\n  base_url: http://api.example.com\n", []wantProblem{{2, "anthropic.base_url", []string{"anthropic.base_url", "plain http:// to a non-loopback host"}}}},
		{"base_url scheme", "anthropic:\n  base_url: ftp://x\n", []wantProblem{{2, "", []string{"is not an http(s) URL"}}}},
		{"http.listen", "http:\n  listen: 8080\n", []wantProblem{{2, "http.listen", []string{`http.listen: "8080" is not host:port`}}}},
		{"http.listen with scheme", "http:\n  listen: http://127.0.0.1:8080\n", []wantProblem{{2, "", []string{"is not host:port", "without a scheme"}}}},
		{"http.listen port", "http:\n  listen: 127.0.0.1:99999\n", []wantProblem{{2, "", []string{"is not a number from 0 to 65535"}}}},
		{"metrics.listen", "metrics:\n  listen: localhost\n", []wantProblem{{2, "metrics.listen", []string{"is not host:port"}}}},
		{"metrics on http.listen", "metrics:\n  listen: 127.0.0.1:8080\n", []wantProblem{{2, "", []string{"metrics.listen is the same address as http.listen"}}}},
		{"key_check_every floor", "anthropic:\n  key_check_every: 30s\n", []wantProblem{{2, "anthropic.key_check_every", []string{"30s is too often; use 0 to turn the check off or at least 1m0s"}}}},
		{"reminder floor", "alerts:\n  reminder_every: 4m\n", []wantProblem{{2, "alerts.reminder_every", []string{"alerts.reminder_every: 4m0s is too short; use at least 5m0s"}}}},
		{"snapshot floor", "scheduler:\n  snapshot_every: 1s\n", []wantProblem{{2, "", []string{"scheduler.snapshot_every: 1s is too short"}}}},
		{"read timeout floor", "scheduler:\n  read_timeout: 100ms\n", []wantProblem{{2, "", []string{"scheduler.read_timeout: 100ms is too short"}}}},
		{"healthz floor", "scheduler:\n  healthz_every: 0\n", []wantProblem{{2, "", []string{"scheduler.healthz_every: 0s is too short"}}}},

		// access
		{"empty id", "access:\n  viewers: ['', U1]\n", []wantProblem{{2, "access.viewers[0]", []string{"access.viewers[0] is empty"}}}},
		{"null id", "access:\n  admins:\n    - U1\n    -\n", []wantProblem{{4, "access.admins[1]", []string{"access.admins[1] is empty"}}}},
		{"id with spaces", "access:\n  responders: ['U1 U2']\n", []wantProblem{{2, "", []string{"contains spaces"}}}},
		{"slack channel name", "access:\n  slack_channels: ['#alerts']\n", []wantProblem{{2, "", []string{"is a channel name; write the channel id"}}}},
		{"telegram chat not numeric", "access:\n  telegram_chats: ['@mychan']\n", []wantProblem{{2, "access.telegram_chats[0]", []string{"is not a numeric Telegram chat id"}}}},

		// log
		{"log level", "log:\n  level: verbose\n", []wantProblem{{2, "log.level", []string{`log.level: "verbose" is not one of trace, debug, info, warn, error`}}}},
		{"log format", "log:\n  format: text\n", []wantProblem{{2, "log.format", []string{"is not one of auto, json, console"}}}},

		// everything at once, decoding and validation together, in file order
		{"all problems at once", "log:\n  level: loud\n  colour: x\nalerts:\n  reminder_every: 1m\ntargets:\n  - name: A\n", []wantProblem{
			{2, "log.level", nil}, {3, "log.colour", nil}, {5, "alerts.reminder_every", nil}, {7, "targets[0].name", nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseString(t, tt.src, env)
			if err == nil {
				t.Fatal("no error")
			}
			checkProblems(t, err, tt.want)
		})
	}
}

func TestValidAccepted(t *testing.T) {
	env := map[string]string{"TOKEN": "xoxb-valid-token", "APP": "xapp-valid-token", "TG": "123:tg"}
	for _, src := range []string{
		"anthropic:\n  base_url: http://127.0.0.1:9999\n",
		"anthropic:\n  base_url: http://[::1]:9999/v1/\n",
		"anthropic:\n  base_url: http://localhost\n",
		"anthropic:\n  key_check_every: 0\n",
		"anthropic:\n  key_check_every: 0s\n",
		"anthropic:\n  key_check_every: 1m\n",
		"alerts:\n  reminder_every: 5m\n",
		"http:\n  listen: ''\n",
		"http:\n  listen: :8080\n",
		"http:\n  listen: '[::1]:0'\n",
		"metrics:\n  listen: 0.0.0.0:9100\n",
		"slack:\n  mode: SOCKET\n  bot_token: ${TOKEN}\n  app_token: ${APP}\n  alert_channel: C1\n",
		"slack:\n  mode: http\n  bot_token: ${TOKEN}\n  signing_secret: abc\n  alert_channel: C1\n",
		"slack:\n  bot_token: ''\n  alert_channel: C1\n", // disabled
		"telegram:\n  token: ${TG}\n  alert_chat: '@mychannel'\n",
		"telegram:\n  mode: webhook\n  token: ${TG}\n  alert_chat: 1\n  webhook_url: https://bot.example.com/telegram/webhook\n  webhook_secret: abc_DEF-123\n",
		"telegram:\n  timezone: Asia/Tokyo\n",
		"targets:\n  - name: a\n    gateway_url: ws://openclaw-gateway:18789\n  - name: b-1.x_y\n    openclaw_profile: work\n",
		"targets:\n  - name: a\n    restart: {method: Docker-Compose}\n",
		"anthropic:\n  check_tokens: yes\n",
		"log:\n  level: WARN\n  format: console\n",
	} {
		if _, err := parseString(t, src, env); err != nil {
			t.Errorf("Parse(%q): %v", src, err)
		}
	}
}

func TestValidateHandBuilt(t *testing.T) {
	c := Default()
	c.Store.Path = ""
	c.Targets[0].OpenClawBin = ""
	c.Targets = append(c.Targets, Target{Name: "local", OpenClawBin: "openclaw", ComposeService: "openclaw-gateway"})
	c.Slack.BotToken = "xoxb-hand-built-secret"
	c.Slack.Mode = ""
	err := c.Validate()
	ps := problemsOf(t, err)
	var keys []string
	for _, p := range ps {
		keys = append(keys, p.Key)
		if p.Line != 0 || p.File != "" {
			t.Errorf("hand-built config has no positions: %v", p)
		}
	}
	want := []string{"store.path", "targets[0].openclaw_bin", "targets[1].name", "slack.app_token", "slack.alert_channel"}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("problems %q, want %q:\n%v", keys, want, err)
	}
	AssertNoSecretLeak(t, c.SecretValues(), map[string]string{"error": err.Error()})

	c = Default()
	c.Targets = nil
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "add at least one target") {
		t.Fatalf("empty targets: %v", err)
	}
}

func TestNoSecretLeak(t *testing.T) {
	env := map[string]string{
		"GW":   "plain-gateway-secret-1",
		"BOT":  "plain-bot-secret-2",
		"APP":  "plain-app-secret-3",
		"SIGN": "plain-signing-secret-4",
		"TG":   "plain-telegram-secret-5",
		"HOOK": "plain-webhook-secret-6",
	}
	var secrets []string
	for _, v := range env {
		secrets = append(secrets, v)
	}
	base := `
targets:
  - name: a
    gateway_token: ${GW}
slack:
  bot_token: ${BOT}
  app_token: ${APP}
  signing_secret: ${SIGN}
  alert_channel: C1
telegram:
  token: ${TG}
  webhook_secret: ${HOOK}
  alert_chat: "1"
`
	c := mustParse(t, base, env)
	AssertNoSecretLeak(t, secrets, renderings(t, c))
	for _, s := range []redact.Secret{c.Targets[0].GatewayToken, c.Slack.BotToken, c.Slack.AppToken, c.Slack.SigningSecret, c.Telegram.Token, c.Telegram.WebhookSecret} {
		if s.IsZero() {
			t.Fatal("secret not resolved")
		}
	}

	// Errors never carry a secret, even when the same text is echoed from a
	// non-secret value, a key or a URL.
	bad := base + `
log:
  level: plain-bot-secret-2
  format: "x plain-app-secret-3"
access:
  slack_channels: ["#plain-signing-secret-4"]
  telegram_chats: ["plain-telegram-secret-5"]
anthropic:
  base_url: http://plain-webhook-secret-6.example.com
  plain-gateway-secret-1: true
`
	_, err := parseString(t, bad, env)
	if err == nil {
		t.Fatal("want errors")
	}
	if n := len(Problems(err)); n != 6 {
		t.Errorf("want 6 problems, got %d:\n%v", n, err)
	}
	outs := map[string]string{"error": err.Error(), "%+v": fmt.Sprintf("%+v", err), "%#v": fmt.Sprintf("%#v", Problems(err))}
	AssertNoSecretLeak(t, secrets, outs)
	if !strings.Contains(err.Error(), redact.Placeholder) {
		t.Errorf("expected scrubbed values in:\n%v", err)
	}

	// A secret given where a mapping belongs is not echoed either.
	_, err = parseString(t, "slack:\n  bot_token:\n    nested: plain-bot-secret-2\n", env)
	AssertNoSecretLeak(t, secrets, map[string]string{"error": fmt.Sprint(err)})
}

func TestProblemsAndError(t *testing.T) {
	if Problems(nil) != nil {
		t.Error("Problems(nil) should be nil")
	}
	e := &Error{File: "f.yaml", Line: 3, Msg: "m"}
	wrapped := fmt.Errorf("loading: %w", errors.Join(e, &Error{Msg: "n"}))
	ps := Problems(wrapped)
	if len(ps) != 2 || ps[0] != e {
		t.Fatalf("Problems = %v", ps)
	}
	for _, tt := range []struct {
		e    Error
		want string
	}{
		{Error{File: "f.yaml", Line: 3, Msg: "m"}, "f.yaml:3: m"},
		{Error{File: "f.yaml", Msg: "m"}, "f.yaml: m"},
		{Error{Line: 3, Msg: "m"}, "line 3: m"},
		{Error{Msg: "m"}, "m"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	// Without a path, messages still carry the line.
	_, err := Parse([]byte("log:\n  lvl: x\n"), "", nil)
	if err == nil || !strings.HasPrefix(err.Error(), "line 2: unknown key") {
		t.Errorf("Parse without a path: %v", err)
	}
}

func TestLoad(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.yaml: cannot read the config file: no such file or directory") {
		t.Fatalf("Load(missing) = %v, want ErrNotExist", err)
	}
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("slack:\n  bot_tokn: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(p)
	if err == nil || !strings.HasPrefix(err.Error(), p+":2: unknown key") {
		t.Fatalf("Load: %v", err)
	}
	t.Setenv("OPENCLAW_BOT_TEST_TOKEN", "xoxb-load-env-7777")
	if err := os.WriteFile(p, []byte("slack:\n  bot_token: ${OPENCLAW_BOT_TEST_TOKEN}\n  app_token: xapp-x\n  alert_channel: C1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil || c.Slack.BotToken.Reveal() != "xoxb-load-env-7777" || c.File != p {
		t.Fatalf("Load with env: %v", err)
	}
}

func TestSuggestNothingFar(t *testing.T) {
	if got := suggest("zzzzzz", []string{"mode", "token"}); got != "" {
		t.Errorf("suggest = %q", got)
	}
}

// Every secret field has a *_file sibling, so the decoder can resolve it.
func TestSecretFieldsHaveFileSiblings(t *testing.T) {
	var walk func(reflect.Type)
	n := 0
	walk = func(tp reflect.Type) {
		fs := fieldsOf(tp)
		for _, f := range fs {
			ft := tp.Field(f.index).Type
			switch {
			case ft == secretType:
				n++
				sib, ok := fieldByName(fs, f.name+"_file")
				if !ok || tp.Field(sib.index).Type.Kind() != reflect.String {
					t.Errorf("%s.%s has no string %s_file sibling", tp.Name(), f.name, f.name)
				}
			case ft.Kind() == reflect.Struct && ft != durationType:
				walk(ft)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				walk(ft.Elem())
			}
		}
	}
	walk(configType)
	if n != 7 {
		t.Errorf("found %d secret fields, want 7", n)
	}
}

func TestUnitMayNotStartWithDash(t *testing.T) {
	_, err := Parse([]byte("targets:\n  - name: a\n    restart:\n      method: systemd\n      unit: -Hroot@evil.example\n"), "c.yaml", func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "not a systemd unit name") {
		t.Fatalf("a unit starting with - must be refused: %v", err)
	}
}

// A secret written literally is valid but warned about, with its line, and
// more loudly when others may read the file; ${ENV} and *_file are not. The
// warnings never carry the secret, and do not make a reload "a change".
func TestLiteralSecretWarnings(t *testing.T) {
	dir := t.TempDir()
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	appToken := filepath.Join(dir, "app.token")
	must(t, os.WriteFile(appToken, []byte("xapp-from-file-5555\n"), 0o600))
	t.Setenv("OPENCLAW_BOT_TEST_SIGNING", "signing-from-env-4444")
	for _, tc := range []struct {
		name, body string
		mode       os.FileMode
		want       []string
	}{
		{"env and file: nothing", "slack:\n  bot_token: ${OPENCLAW_BOT_TEST_SIGNING}\n  app_token_file: " + appToken + "\n  alert_channel: C1\n", 0o644, nil},
		{"literal, private file", "slack:\n  bot_token: xoxb-literal-1111\n  app_token_file: " + appToken + "\n  alert_channel: C1\n", 0o600,
			[]string{":2: slack.bot_token is written literally", `prefer "${ENV_NAME}" or bot_token_file`}},
		{"literal, readable file", "telegram:\n  alert_chat: \"-1\"\n  token: 123:literal-tg-2222\n", 0o640,
			[]string{":3: telegram.token is written literally", "readable by others (mode 0640): chmod 600"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "c.yaml")
			must(t, os.WriteFile(p, []byte(tc.body), 0o600))
			must(t, os.Chmod(p, tc.mode))
			c, err := Load(p)
			must(t, err)
			all := strings.Join(c.Warnings, "\n")
			if len(tc.want) == 0 && all != "" {
				t.Fatalf("warnings %q, want none", all)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q lack %q", all, w)
				}
			}
			AssertNoSecretLeak(t, c.SecretValues(), map[string]string{"warnings": all})
			// The same settings from bytes (no file): no warnings, and Equal.
			again, err := Parse([]byte(tc.body), "", nil)
			must(t, err)
			if len(again.Warnings) != 0 {
				t.Errorf("Parse without a file warned: %q", again.Warnings)
			}
			again.File = c.File
			if !c.Equal(again) {
				t.Error("Equal sees the warnings")
			}
		})
	}
}

// recovery.reset_after_rotation is off unless said; true turns it on.
func TestRecoveryResetAfterRotation(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want bool
	}{
		{"", false},
		{"recovery: {}\n", false},
		{"recovery:\n  reset_after_rotation: false\n", false},
		{"recovery:\n  reset_after_rotation: true\n", true},
	} {
		c, err := parseString(t, tt.src, nil)
		if err != nil {
			t.Fatalf("%q: %v", tt.src, err)
		}
		if c.Recovery.ResetAfterRotation != tt.want {
			t.Errorf("%q: reset_after_rotation %v, want %v", tt.src, c.Recovery.ResetAfterRotation, tt.want)
		}
	}
	if Default().Recovery.ResetAfterRotation {
		t.Error("on by default")
	}
}
