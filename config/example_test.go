package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// examplePath is the documented example at the repository root.
const examplePath = "../config.example.yaml"

// contractKeys are the config keys of the public contract (CONTRACT.md,
// "Config keys"), in the contract's order. They must never be renamed.
var contractKeys = []string{
	"store", "store.path",
	"http", "http.listen",
	"metrics", "metrics.listen",
	"anthropic", "anthropic.base_url", "anthropic.key_check_every", "anthropic.check_tokens",
	"targets", "targets[].name", "targets[].state_dir", "targets[].openclaw_config", "targets[].openclaw_bin",
	"targets[].anthropic_base_url", "targets[].gateway_url", "targets[].gateway_token",
	"slack", "slack.mode", "slack.bot_token", "slack.app_token", "slack.signing_secret", "slack.api_url", "slack.alert_channel",
	"telegram", "telegram.mode", "telegram.token", "telegram.api_url", "telegram.webhook_url", "telegram.webhook_secret",
	"telegram.alert_chat", "telegram.timezone",
	"access", "access.viewers", "access.responders", "access.admins", "access.slack_channels", "access.telegram_chats",
}

type docKey struct {
	path      string
	line, col int
}

// docKeys lists a YAML document's keys as paths ("targets[].name"), in
// document order, first occurrence only.
func docKeys(n *yaml.Node) []docKey {
	var out []docKey
	seen := map[string]bool{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		n = resolve(n)
		if n == nil {
			return
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, prefix)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				p := joinKey(prefix, k.Value)
				if !seen[p] {
					seen[p] = true
					out = append(out, docKey{p, k.Line, k.Column})
				}
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, prefix+"[]")
			}
		}
	}
	walk(n, "")
	return out
}

// structKeys lists every key the Go structs accept, as paths.
func structKeys(t reflect.Type, prefix string) []string {
	var out []string
	for _, f := range fieldsOf(t) {
		ft := t.Field(f.index).Type
		p := joinKey(prefix, f.name)
		out = append(out, p)
		switch {
		case ft.Kind() == reflect.Struct && ft != durationType:
			out = append(out, structKeys(ft, p)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, structKeys(ft.Elem(), p+"[]")...)
		}
	}
	return out
}

var envRefAnyRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func readExample(t *testing.T) (string, *yaml.Node) {
	t.Helper()
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatalf("the documented example must exist: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return string(b), &doc
}

// The example parses and validates when the variables it references are set,
// and shows the defaults.
func TestExampleParses(t *testing.T) {
	text, _ := readExample(t)
	env := map[string]string{}
	for _, m := range envRefAnyRE.FindAllStringSubmatch(text, -1) {
		env[m[1]] = "dummy-value-" + m[1]
	}
	if len(env) < 6 {
		t.Fatalf("the example should show every secret as ${ENV}; found %v", env)
	}
	c, err := Load(examplePath) // with the real environment: must fail cleanly, never leak
	if err == nil && os.Getenv("SLACK_BOT_TOKEN") == "" {
		t.Errorf("Load(example) without the variables set should fail, got %+v", c)
	}
	c, err = Parse([]byte(text), examplePath, envMap(env))
	if err != nil {
		t.Fatalf("config.example.yaml does not parse:\n%v", err)
	}
	if !c.Slack.Enabled() || !c.Telegram.Enabled() {
		t.Error("the example should enable Slack and Telegram")
	}
	d := Default()
	check := func(name string, got, want any) {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("example %s = %v, but the default is %v", name, got, want)
		}
	}
	check("store.path", c.Store.Path, d.Store.Path)
	check("http.listen", c.HTTP.Listen, d.HTTP.Listen)
	check("metrics.listen", c.Metrics.Listen, d.Metrics.Listen)
	check("anthropic", c.Anthropic, d.Anthropic)
	check("slack.mode", c.Slack.Mode, d.Slack.Mode)
	check("slack.api_url", c.Slack.APIURL, d.Slack.APIURL)
	check("telegram.mode", c.Telegram.Mode, d.Telegram.Mode)
	check("telegram.api_url", c.Telegram.APIURL, d.Telegram.APIURL)
	check("telegram.timezone", c.Telegram.Timezone, d.Telegram.Timezone)
	check("scheduler", c.Scheduler, d.Scheduler)
	check("alerts.reminder_every", c.Alerts.ReminderEvery, d.Alerts.ReminderEvery) // the example shows one (past) maintenance window
	check("log", c.Log, d.Log)
	check("targets[0].name", c.Targets[0].Name, d.Targets[0].Name)
	check("targets[0].openclaw_bin", c.Targets[0].OpenClawBin, d.Targets[0].OpenClawBin)
	check("targets[0].compose_service", c.Targets[0].ComposeService, d.Targets[0].ComposeService)
	check("targets[0].restart", c.Targets[0].Restart, Restart{Command: []string{}})
	var secrets []string
	for _, v := range env {
		secrets = append(secrets, v)
	}
	AssertNoSecretLeak(t, secrets, renderings(t, c))
}

// Every key of the Go structs is documented in the example (a *_file
// alternative as a commented line right under its secret, at the same
// indentation), and the example holds no key the structs lack.
func TestExampleDocumentsEveryKey(t *testing.T) {
	text, doc := readExample(t)
	lines := strings.Split(text, "\n")
	keys := docKeys(doc)
	byPath := map[string]docKey{}
	for _, k := range keys {
		byPath[k.path] = k
	}
	known := map[string]bool{}
	for _, p := range structKeys(configType, "") {
		known[p] = true
		if _, ok := byPath[p]; ok {
			continue
		}
		base, isFile := strings.CutSuffix(p, "_file")
		bk, ok := byPath[base]
		if !isFile || !ok {
			t.Errorf("key %s is not documented in config.example.yaml", p)
			continue
		}
		leaf := p[strings.LastIndexAny(p, ".]")+1:]
		want := strings.Repeat(" ", bk.col-1) + "# " + leaf + ":"
		found := false
		for i := bk.line; i < len(lines) && i < bk.line+3; i++ { // lines[bk.line] is the line after the key
			if strings.HasPrefix(lines[i], want) {
				found = true
			}
		}
		if !found {
			t.Errorf("key %s is not documented: want a line %q right under %s (line %d)", p, want, base, bk.line)
		}
	}
	for _, k := range keys {
		if !known[k.path] {
			t.Errorf("config.example.yaml:%d: key %s does not exist in the Go structs", k.line, k.path)
		}
	}
}

// children maps each section to its keys' names, in order.
func children(paths []string) map[string][]string {
	out := map[string][]string{}
	for _, p := range paths {
		i := strings.LastIndexByte(p, '.')
		parent, leaf := "", p
		if i >= 0 {
			parent, leaf = p[:i], p[i+1:]
		}
		out[parent] = append(out[parent], leaf)
	}
	return out
}

// The contract's keys come first, in the contract's order, in the example.
func TestExampleContractOrder(t *testing.T) {
	_, doc := readExample(t)
	var paths []string
	for _, k := range docKeys(doc) {
		paths = append(paths, k.path)
	}
	got, want := children(paths), children(contractKeys)
	for section, keys := range want {
		g := got[section]
		if len(g) < len(keys) || !reflect.DeepEqual(g[:len(keys)], keys) {
			t.Errorf("section %q of config.example.yaml starts with %v, want the contract's %v first", section, g, keys)
		}
	}
	// The structs accept every contract key.
	known := map[string]bool{}
	for _, p := range structKeys(configType, "") {
		known[p] = true
	}
	for _, k := range contractKeys {
		if !known[k] {
			t.Errorf("contract key %s missing from the Go structs", k)
		}
	}
}

// When the shared contract is at hand, contractKeys matches its YAML block.
func TestContractKeysMatchContract(t *testing.T) {
	b, err := os.ReadFile("../testdata/contract/CONTRACT.md")
	if err != nil {
		t.Fatal("testdata/contract/CONTRACT.md (a copy of the public contract):", err)
	}
	_, after, ok := strings.Cut(string(b), "## Config keys")
	if !ok {
		t.Fatal("no Config keys section in CONTRACT.md")
	}
	_, block, ok := strings.Cut(after, "```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml block in the Config keys section")
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(block), &doc); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, k := range docKeys(&doc) {
		paths = append(paths, k.path)
	}
	if !reflect.DeepEqual(paths, contractKeys) {
		t.Fatalf("CONTRACT.md keys\n%v\ndiffer from contractKeys\n%v", paths, contractKeys)
	}
}
