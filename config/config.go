// Package config loads and validates openclaw-bot's YAML configuration.
//
// The key names are part of the public contract (see config.example.yaml at
// the repository root, which documents every key). Decoding is strict:
//
//   - an unknown key, a value of the wrong type or a duplicate key is an
//     error that carries the line number (and, for a misspelt key, a
//     "did you mean" suggestion);
//   - every problem is reported at once (errors.Join of *Error values);
//   - an empty file is valid and means "all defaults".
//
// Secrets (every token and secret field, typed redact.Secret) are given
// literally, as a whole-value ${ENV_NAME} reference, or through a sibling
// "<key>_file" key naming a file whose content (minus trailing newlines) is
// the secret; a relative *_file path is relative to the config file's
// directory. A partial reference such as "abc${X}" is kept literally, and
// non-secret values are never expanded. Secrets never appear in errors or in
// any fmt/JSON/YAML rendering of a Config.
//
// Other relative paths (store.path, targets[].state_dir, …) are kept as
// written: they are relative to the bot's working directory, and "~" is
// expanded by whoever opens them.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/openclaw-bot/openclaw-bot/internal/pgdsn"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/internal/text"
)

// Defaults. Durations and addresses that the contract fixes are repeated in
// config.example.yaml; a test keeps the two in step.
const (
	DefaultStorePath        = "./openclaw-bot.db"
	DefaultHTTPListen       = "127.0.0.1:8080"
	DefaultAnthropicBaseURL = "https://api.anthropic.com"
	DefaultKeyCheckEvery    = 15 * time.Minute
	DefaultTargetName       = "local"
	DefaultOpenClawBin      = "openclaw"
	DefaultComposeService   = "openclaw-gateway"
	DefaultSlackAPIURL      = "https://slack.com/api/"
	DefaultTelegramAPIURL   = "https://api.telegram.org"
	DefaultTimezone         = "UTC"
	DefaultSnapshotEvery    = 30 * time.Second
	DefaultHealthzEvery     = time.Minute
	DefaultReadTimeout      = 5 * time.Second // = openclaw.DefaultReadTimeout
	DefaultOpenClawLogDir   = "/tmp/openclaw"
	DefaultReminderEvery    = 4 * time.Hour
	DefaultHeartbeatEvery   = 10 * time.Second
	DefaultLogLevel         = "info"
	DefaultLogFormat        = "auto"
)

// Slack modes.
const (
	SlackSocket = "socket"
	SlackHTTP   = "http"
)

// Telegram modes.
const (
	TelegramPolling = "polling"
	TelegramWebhook = "webhook"
)

// Config is the bot's whole configuration. Construct it with Default, Load or
// Parse; a Config built by hand should be checked with Validate.
type Config struct {
	Store     Store     `yaml:"store" json:"store"`
	HTTP      HTTP      `yaml:"http" json:"http"`
	Metrics   Metrics   `yaml:"metrics" json:"metrics"`
	Anthropic Anthropic `yaml:"anthropic" json:"anthropic"`
	Targets   []Target  `yaml:"targets" json:"targets"`
	Slack     Slack     `yaml:"slack" json:"slack"`
	Telegram  Telegram  `yaml:"telegram" json:"telegram"`
	Access    Access    `yaml:"access" json:"access"`
	Scheduler Scheduler `yaml:"scheduler" json:"scheduler"`
	Alerts    Alerts    `yaml:"alerts" json:"alerts"`
	Recovery  Recovery  `yaml:"recovery" json:"recovery"`
	Log       Log       `yaml:"log" json:"log"`
	Instance  Instance  `yaml:"instance" json:"instance"`
	Fleet     Fleet     `yaml:"fleet" json:"fleet"`

	// File is the path the configuration was read from; "" for Default.
	File string `yaml:"-" json:"file,omitempty"`
	// Warnings are what is valid but unwise ("file:line: …"): secrets
	// written literally, above all in a file others may read. config check
	// prints them; serve logs them at start.
	Warnings []string `yaml:"-" json:"-"`

	pos    map[string]int  // key path ("slack.mode", "targets[1].name") → line
	failed map[string]bool // key paths that already have a decoding error
}

// Store is the bot's own database: an SQLite file (the default, zero
// config) or PostgreSQL, which several bot processes can share.
type Store struct {
	// Driver is StoreSQLite or StorePostgres ("" means sqlite).
	Driver string `yaml:"driver" json:"driver"`
	// Path is the SQLite file. With the postgres driver it is still where
	// serve keeps its lock file and the backups of cooldown resets (next to
	// it, openclaw-bot-backups).
	Path string `yaml:"path" json:"path"`
	// DSN is the PostgreSQL connection string (postgres:// URL or libpq
	// keyword=value pairs), a secret: ${ENV} or dsn_file.
	DSN     redact.Secret `yaml:"dsn" json:"dsn"`
	DSNFile string        `yaml:"dsn_file" json:"dsn_file,omitempty"`
}

// Store drivers.
const (
	StoreSQLite   = "sqlite"
	StorePostgres = "postgres"
)

// Describe names the store for messages, never showing a DSN's password:
// the SQLite path, or "postgres" and the DSN with its password masked.
func (s Store) Describe() string {
	if s.Driver == StorePostgres {
		return "postgres " + pgdsn.Redact(s.DSN.Reveal())
	}
	return s.Path
}

// HTTP is the bot's HTTP listener (/healthz, /readyz, Slack HTTP mode,
// Telegram webhook mode). An empty Listen turns the listener off, which is
// only allowed when neither Slack HTTP mode nor Telegram webhook mode is used.
type HTTP struct {
	Listen string `yaml:"listen" json:"listen"`
}

// Metrics is the /metrics listener; empty Listen means "on http.listen when
// that is loopback".
type Metrics struct {
	Listen string `yaml:"listen" json:"listen"`
}

// Anthropic holds the API settings shared by all targets.
type Anthropic struct {
	BaseURL       string        `yaml:"base_url" json:"base_url"`
	KeyCheckEvery time.Duration `yaml:"key_check_every" json:"key_check_every"` // 0 = off
	CheckTokens   bool          `yaml:"check_tokens" json:"check_tokens"`
}

// Target is one watched OpenClaw install.
type Target struct {
	Name             string        `yaml:"name" json:"name"`
	StateDir         string        `yaml:"state_dir" json:"state_dir"`             // "" = OPENCLAW_STATE_DIR, then ~/.openclaw
	OpenClawConfig   string        `yaml:"openclaw_config" json:"openclaw_config"` // like OPENCLAW_CONFIG_PATH
	OpenClawBin      string        `yaml:"openclaw_bin" json:"openclaw_bin"`
	AnthropicBaseURL string        `yaml:"anthropic_base_url" json:"anthropic_base_url"`
	GatewayURL       string        `yaml:"gateway_url" json:"gateway_url"`
	GatewayToken     redact.Secret `yaml:"gateway_token" json:"gateway_token"`
	GatewayTokenFile string        `yaml:"gateway_token_file" json:"gateway_token_file,omitempty"`

	// Extra keys (not in the contract's block).
	OpenClawProfile string  `yaml:"openclaw_profile" json:"openclaw_profile"` // like `openclaw --profile NAME`
	AgentDir        string  `yaml:"agent_dir" json:"agent_dir"`               // like OPENCLAW_AGENT_DIR
	ComposeFile     string  `yaml:"compose_file" json:"compose_file"`
	ComposeService  string  `yaml:"compose_service" json:"compose_service"`
	Restart         Restart `yaml:"restart" json:"restart"`
}

// Restart says how the `restart` chat command restarts a target's gateway.
type Restart struct {
	Method  string   `yaml:"method" json:"method"`   // one of openclaw.RestartMethods; "" = automatic
	Unit    string   `yaml:"unit" json:"unit"`       // systemd unit (method systemd)
	Command []string `yaml:"command" json:"command"` // argv, no shell (method command)
}

// Slack is the Slack surface. It is enabled when BotToken is set.
type Slack struct {
	Mode              string        `yaml:"mode" json:"mode"`
	BotToken          redact.Secret `yaml:"bot_token" json:"bot_token"`
	BotTokenFile      string        `yaml:"bot_token_file" json:"bot_token_file,omitempty"`
	AppToken          redact.Secret `yaml:"app_token" json:"app_token"`
	AppTokenFile      string        `yaml:"app_token_file" json:"app_token_file,omitempty"`
	SigningSecret     redact.Secret `yaml:"signing_secret" json:"signing_secret"`
	SigningSecretFile string        `yaml:"signing_secret_file" json:"signing_secret_file,omitempty"`
	APIURL            string        `yaml:"api_url" json:"api_url"`
	AlertChannel      string        `yaml:"alert_channel" json:"alert_channel"`
	AlertTargets      []string      `yaml:"alert_targets" json:"alert_targets"`           // [] = every target
	AlertMinSeverity  string        `yaml:"alert_min_severity" json:"alert_min_severity"` // critical | warning | info
}

// Enabled reports whether Slack is configured (a bot token is set).
func (s *Slack) Enabled() bool { return s != nil && !s.BotToken.IsZero() }

// Telegram is the Telegram surface. It is enabled when Token is set.
type Telegram struct {
	Mode              string        `yaml:"mode" json:"mode"`
	Token             redact.Secret `yaml:"token" json:"token"`
	TokenFile         string        `yaml:"token_file" json:"token_file,omitempty"`
	APIURL            string        `yaml:"api_url" json:"api_url"`
	WebhookURL        string        `yaml:"webhook_url" json:"webhook_url"`
	WebhookSecret     redact.Secret `yaml:"webhook_secret" json:"webhook_secret"`
	WebhookSecretFile string        `yaml:"webhook_secret_file" json:"webhook_secret_file,omitempty"`
	AlertChat         string        `yaml:"alert_chat" json:"alert_chat"`
	AlertTargets      []string      `yaml:"alert_targets" json:"alert_targets"`           // [] = every target
	AlertMinSeverity  string        `yaml:"alert_min_severity" json:"alert_min_severity"` // critical | warning | info
	Timezone          string        `yaml:"timezone" json:"timezone"`
}

// Enabled reports whether Telegram is configured (a bot token is set).
func (t *Telegram) Enabled() bool { return t != nil && !t.Token.IsZero() }

// AlertRoute is where a chat section sends alerts, and which: its alert
// destination and alert_targets / alert_min_severity.
type AlertRoute struct {
	Dest        string
	Targets     []string // [] = every target
	MinSeverity string   // critical | warning | info; "" = warning
}

// Alerts is the slack section's alert route (alert_channel).
func (s *Slack) Alerts() AlertRoute {
	return AlertRoute{Dest: s.AlertChannel, Targets: s.AlertTargets, MinSeverity: s.AlertMinSeverity}
}

// Alerts is the telegram section's alert route (alert_chat).
func (t *Telegram) Alerts() AlertRoute {
	return AlertRoute{Dest: t.AlertChat, Targets: t.AlertTargets, MinSeverity: t.AlertMinSeverity}
}

// Location is the loaded Timezone; UTC when it is empty or does not load
// (Validate reports the latter).
func (t *Telegram) Location() *time.Location {
	if t == nil || t.Timezone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(t.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Access lists who may do what. Ids are compared as strings (Slack "U…",
// Telegram numeric ids); a user id may carry its platform as a prefix
// ("slack:U…", "telegram:42") to match on that platform only (access.go).
type Access struct {
	Viewers       []string `yaml:"viewers" json:"viewers"`
	Responders    []string `yaml:"responders" json:"responders"`
	Admins        []string `yaml:"admins" json:"admins"`
	SlackChannels []string `yaml:"slack_channels" json:"slack_channels"`
	TelegramChats []string `yaml:"telegram_chats" json:"telegram_chats"`
}

// Scheduler holds the serve loop's intervals.
type Scheduler struct {
	SnapshotEvery time.Duration `yaml:"snapshot_every" json:"snapshot_every"`
	HealthzEvery  time.Duration `yaml:"healthz_every" json:"healthz_every"`
	// ReadTimeout bounds one native read of a target's state; past it the
	// read is abandoned (a hung network mount) and the target gets
	// state.unreadable.
	ReadTimeout time.Duration `yaml:"read_timeout" json:"read_timeout"`
	// OpenClawLogDir is where OpenClaw writes openclaw-YYYY-MM-DD.log;
	// "" turns the log follower off.
	OpenClawLogDir string `yaml:"openclaw_log_dir" json:"openclaw_log_dir"`
}

// Alerts holds alerting behaviour.
type Alerts struct {
	ReminderEvery time.Duration `yaml:"reminder_every" json:"reminder_every"`
	// Maintenance windows mute alerts while they last (planned work).
	Maintenance []Maintenance `yaml:"maintenance" json:"maintenance"`
}

// Maintenance is a planned window during which alerts are muted; times are
// RFC 3339 (2026-12-01T22:00:00Z).
type Maintenance struct {
	Target  string `yaml:"target" json:"target"`   // "" = every target
	Starts  string `yaml:"starts" json:"starts"`   // RFC 3339
	Ends    string `yaml:"ends" json:"ends"`       // RFC 3339
	Comment string `yaml:"comment" json:"comment"` // shown nowhere secret-sensitive
}

// Window parses the window's times.
func (m Maintenance) Window() (starts, ends time.Time, err error) {
	if starts, err = time.Parse(time.RFC3339, m.Starts); err != nil {
		return starts, ends, fmt.Errorf("starts %q is not an RFC 3339 time like 2026-12-01T22:00:00Z", m.Starts)
	}
	if ends, err = time.Parse(time.RFC3339, m.Ends); err != nil {
		return starts, ends, fmt.Errorf("ends %q is not an RFC 3339 time like 2026-12-01T23:00:00Z", m.Ends)
	}
	if !ends.After(starts) {
		return starts, ends, fmt.Errorf("ends %s is not after starts %s", m.Ends, m.Starts)
	}
	return starts, ends, nil
}

// Instance names this serve process in a fleet (README "Fleet": several
// instances sharing a PostgreSQL store, each watching its own targets).
type Instance struct {
	// Name is unique in the fleet; "" is the host name.
	Name string `yaml:"name" json:"name"`
}

// Fleet holds what instances sharing a PostgreSQL store agree on.
type Fleet struct {
	// HeartbeatEvery is how often each instance beats; one that misses
	// three beats gets one critical instance.silent alert.
	HeartbeatEvery time.Duration `yaml:"heartbeat_every" json:"heartbeat_every"`
}

// Recovery holds what serve may repair by itself, without a Confirm.
type Recovery struct {
	// ResetAfterRotation: when a profile's key changed after its
	// cooldown/disable began and the zero-token check accepts the new key
	// (finding cooldown.stale), serve resets that window itself — through
	// the same action as a confirmed `cooldown reset` (backup, audit row,
	// undo), once per window — and announces it on the alert routes.
	// Default off: the alert's Reset cooldown button does it.
	ResetAfterRotation bool `yaml:"reset_after_rotation" json:"reset_after_rotation"`
}

// Log configures the bot's own log output.
type Log struct {
	Level  string `yaml:"level" json:"level"`   // trace | debug | info | warn | error
	Format string `yaml:"format" json:"format"` // auto | json | console
}

// Default is the configuration used without a config file: one target
// "local" that locates the install like OpenClaw does (OPENCLAW_STATE_DIR,
// then ~/.openclaw), no Slack or Telegram (the console is the chat), and the
// store in the working directory.
func Default() *Config {
	return &Config{
		Store:     Store{Driver: StoreSQLite, Path: DefaultStorePath},
		HTTP:      HTTP{Listen: DefaultHTTPListen},
		Anthropic: Anthropic{BaseURL: DefaultAnthropicBaseURL, KeyCheckEvery: DefaultKeyCheckEvery},
		Targets:   []Target{defaultTarget()},
		Slack:     Slack{Mode: SlackSocket, APIURL: DefaultSlackAPIURL},
		Telegram:  Telegram{Mode: TelegramPolling, APIURL: DefaultTelegramAPIURL, Timezone: DefaultTimezone},
		Scheduler: Scheduler{SnapshotEvery: DefaultSnapshotEvery, HealthzEvery: DefaultHealthzEvery, ReadTimeout: DefaultReadTimeout, OpenClawLogDir: DefaultOpenClawLogDir},
		Alerts:    Alerts{ReminderEvery: DefaultReminderEvery},
		Log:       Log{Level: DefaultLogLevel, Format: DefaultLogFormat},
		Fleet:     Fleet{HeartbeatEvery: DefaultHeartbeatEvery},
	}
}

func defaultTarget() Target {
	t := Target{Name: DefaultTargetName}
	t.applyDefaults()
	return t
}

// Said names a key of this target for messages about where a value came
// from: "state_dir of target prod in the bot config".
func (t Target) Said(key string) string {
	return key + " of target " + t.Name + " in the bot config"
}

func (t *Target) applyDefaults() {
	if t.OpenClawBin == "" {
		t.OpenClawBin = DefaultOpenClawBin
	}
	if t.ComposeService == "" {
		t.ComposeService = DefaultComposeService
	}
}

// Target returns the target with the given name.
func (c *Config) Target(name string) (*Target, bool) {
	if c == nil {
		return nil, false
	}
	for i := range c.Targets {
		if c.Targets[i].Name == name {
			return &c.Targets[i], true
		}
	}
	return nil, false
}

// SecretValues returns every non-empty secret in the configuration, for
// registering with a redact.Scrubber at start-up.
func (c *Config) SecretValues() []string {
	if c == nil {
		return nil
	}
	var out []string
	add := func(s redact.Secret) {
		if !s.IsZero() {
			out = append(out, s.Reveal())
		}
	}
	for _, t := range c.Targets {
		add(t.GatewayToken)
	}
	add(c.Slack.BotToken)
	add(c.Slack.AppToken)
	add(c.Slack.SigningSecret)
	add(c.Telegram.Token)
	add(c.Telegram.WebhookSecret)
	add(c.Store.DSN)
	// The password alone too: a message may quote it without the rest.
	add(redact.Secret(pgdsn.Password(c.Store.DSN.Reveal())))
	return out
}

// Line returns the line of the config file where the key path (for example
// "slack.mode" or "targets[1].name") was set, or 0 when unknown.
func (c *Config) Line(key string) int {
	if c == nil {
		return 0
	}
	return c.pos[key]
}

// Error is one configuration problem. Load, Parse and Validate return
// errors.Join of these; use Problems to get them back.
type Error struct {
	File string // config file path; "" when unknown
	Line int    // 1-based; 0 when unknown
	Key  string // key path such as "slack.bot_token" or "targets[0].name"; may be ""
	Msg  string // what is wrong and what to do
}

func (e *Error) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.File != "":
		return e.File + ": " + e.Msg
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// Problems returns the individual problems inside an error from Load, Parse
// or Validate (Parse sorts them by line). An error that is not about the
// file's content, such as Load's "cannot read", has none.
func Problems(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if e, ok := err.(*Error); ok {
			out = append(out, e)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if e := errors.Unwrap(err); e != nil {
			walk(e)
		}
	}
	walk(err)
	return out
}

// Load reads and parses the config file at path, expanding ${VAR} secrets
// from the process environment. An empty path means no file: Default().
// A missing file is an error (errors.Is(err, fs.ErrNotExist)).
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: cannot read the config file: %w; check the --config path", path, err)
	}
	c, err := Parse(data, path, os.Getenv)
	if err != nil || len(c.Warnings) == 0 {
		return c, err
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s: holds secrets and is readable by others (mode %04o): chmod 600 %s", path, st.Mode().Perm(), path))
	}
	return c, nil
}

// Parse decodes and validates a configuration. path is used in messages and
// as the base for relative *_file paths ("" means the working directory);
// getenv resolves ${VAR} secrets (nil means os.Getenv).
func Parse(data []byte, path string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	dir := "."
	if path != "" {
		dir = filepath.Dir(path)
	}
	return parse(data, path, parseOptions{
		getenv:   getenv,
		readFile: func(p string) ([]byte, error) { return readSecretFile(p, dir) },
	})
}

type parseOptions struct {
	getenv   func(string) string
	readFile func(path string) ([]byte, error) // a *_file's content
}

// maxErrors bounds the number of problems reported for one file.
const maxErrors = 50

func parse(data []byte, path string, opts parseOptions) (*Config, error) {
	d := &decoder{
		file:   path,
		opts:   opts,
		pos:    map[string]int{},
		failed: map[string]bool{},
		active: map[*yaml.Node]bool{},
		scrub:  redact.NewScrubber(),
	}
	c := Default()
	c.Targets = nil
	c.File = path

	root, perr := parseYAML(data)
	if perr != nil {
		d.add(perr)
	} else if root != nil {
		d.value(root, reflect.ValueOf(c).Elem(), "")
	}
	c.pos, c.failed = d.pos, d.failed
	c.normalize()

	var errs []*Error
	errs = append(errs, d.errs...)
	if perr == nil {
		errs = append(errs, Problems(c.Validate())...)
	}
	if len(errs) == 0 {
		if path != "" {
			c.Warnings = d.literal
		}
		return c, nil
	}
	sort.SliceStable(errs, func(i, j int) bool { // by line; problems without a line last
		a, b := errs[i].Line, errs[j].Line
		return a > 0 && (b == 0 || a < b)
	})
	if len(errs) > maxErrors {
		errs = append(errs[:maxErrors:maxErrors], &Error{File: path, Msg: fmt.Sprintf("… and %d more problems", len(errs)-maxErrors)})
	}
	list := make([]error, len(errs))
	for i, e := range errs {
		e.Msg = d.scrub.String(e.Msg)
		list[i] = e
	}
	return nil, errors.Join(list...)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlParserErrors are the messages of yaml.v3's parser errors (parserc.go),
// as opposed to its scanner errors.
var yamlParserErrors = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// parseYAML returns the root node of the single document in data, nil for
// an empty document, or a syntax error.
func parseYAML(data []byte) (root *yaml.Node, err *Error) {
	defer func() {
		if r := recover(); r != nil { // the YAML library must not take the bot down
			root, err = nil, &Error{Msg: fmt.Sprintf("invalid YAML: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if e := dec.Decode(&doc); e != nil {
		if errors.Is(e, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(e)
	}
	for { // further documents must be empty (a trailing "---" is harmless)
		var extra yaml.Node
		e := dec.Decode(&extra)
		if errors.Is(e, io.EOF) {
			break
		}
		if e != nil {
			return nil, syntaxError(e)
		}
		if len(extra.Content) > 0 && !isNull(extra.Content[0]) {
			return nil, &Error{Line: extra.Line, Msg: "the file holds more than one YAML document (a second \"---\"); keep a single document"}
		}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	n := doc.Content[0]
	if isNull(n) {
		return nil, nil
	}
	return n, nil
}

func syntaxError(e error) *Error {
	msg := e.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if yamlParserErrors[m[2]] {
			line++ // yaml.v3 reports parser (not scanner) errors with a 0-based line
		}
		return &Error{Line: line, Msg: "invalid YAML: " + text.Truncate(m[2], 201)}
	}
	return &Error{Msg: "invalid YAML: " + text.Truncate(strings.TrimPrefix(msg, "yaml: "), 201)}
}

// normalize fills defaults for values left empty and canonicalises spelling
// (lower-case enums, URL slashes). It never touches secrets.
func (c *Config) normalize() {
	if len(c.Targets) == 0 {
		c.Targets = []Target{defaultTarget()}
	}
	for i := range c.Targets {
		c.Targets[i].applyDefaults()
		c.Targets[i].Restart.Method = strings.ToLower(strings.TrimSpace(c.Targets[i].Restart.Method))
		c.Targets[i].AnthropicBaseURL = strings.TrimRight(c.Targets[i].AnthropicBaseURL, "/")
	}
	def := func(s *string, v string) {
		if strings.TrimSpace(*s) == "" {
			*s = v
		}
	}
	def(&c.Store.Path, DefaultStorePath)
	def(&c.Store.Driver, StoreSQLite)
	def(&c.Anthropic.BaseURL, DefaultAnthropicBaseURL)
	def(&c.Slack.Mode, SlackSocket)
	def(&c.Slack.APIURL, DefaultSlackAPIURL)
	def(&c.Telegram.Mode, TelegramPolling)
	def(&c.Telegram.APIURL, DefaultTelegramAPIURL)
	def(&c.Telegram.Timezone, DefaultTimezone)
	def(&c.Log.Level, DefaultLogLevel)
	def(&c.Log.Format, DefaultLogFormat)
	c.Anthropic.BaseURL = strings.TrimRight(c.Anthropic.BaseURL, "/")
	c.Telegram.APIURL = strings.TrimRight(c.Telegram.APIURL, "/")
	if !strings.HasSuffix(c.Slack.APIURL, "/") { // slack-go concatenates endpoint+method
		c.Slack.APIURL += "/"
	}
	for _, s := range []*string{&c.Store.Driver, &c.Slack.Mode, &c.Telegram.Mode, &c.Log.Level, &c.Log.Format} {
		*s = strings.ToLower(strings.TrimSpace(*s))
	}
}

// ---- decoding ----

var (
	durationType = reflect.TypeOf(time.Duration(0))
	secretType   = reflect.TypeOf(redact.Secret(""))
	configType   = reflect.TypeOf(Config{})
	envRefRE     = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)
)

type decoder struct {
	file   string
	opts   parseOptions
	errs   []*Error
	pos    map[string]int
	failed map[string]bool
	active map[*yaml.Node]bool // mappings being decoded (guards alias/merge cycles)
	scrub  *redact.Scrubber
	steps  int // work done so far; see maxSteps
	// literal lists the secret keys written literally (for Warnings).
	literal []string
}

func (d *decoder) add(e *Error) {
	e.File = d.file
	if len(d.errs) < 10*maxErrors { // more would not be shown anyway
		d.errs = append(d.errs, e)
	}
	if e.Key != "" {
		d.failed[e.Key] = true
	}
}

func (d *decoder) errf(line int, key, format string, args ...any) {
	d.add(&Error{Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func isMerge(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" && n.ShortTag() == "!!merge"
}

func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if !d.step(n) {
		return
	}
	n = resolve(n)
	if n == nil || n.Kind == yaml.AliasNode || isNull(n) {
		return // null keeps the default
	}
	t := v.Type()
	switch {
	case t == durationType:
		d.duration(n, v, path)
	case t.Kind() == reflect.Struct:
		d.mapping(n, v, path, true)
	case t.Kind() == reflect.String:
		d.str(n, v, path, t == secretType)
	case t.Kind() == reflect.Bool:
		d.boolean(n, v, path)
	case t.Kind() == reflect.Slice:
		d.sequence(n, v, path)
	default:
		panic("config: unsupported field type " + t.String())
	}
}

type field struct {
	name  string
	index int
}

var fieldCache sync.Map // reflect.Type → []field

// fieldsOf lists a struct's YAML keys (cached; callers must not modify it).
func fieldsOf(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, field{name, i})
	}
	fieldCache.Store(t, out)
	return out
}

func fieldByName(fs []field, name string) (field, bool) {
	for _, f := range fs {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

func joinKey(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// section names a mapping for messages.
func section(path string) string {
	if path == "" {
		return "at the top level"
	}
	return "in " + path
}

// maxSteps bounds the work of decoding one file. Aliases and merge keys can
// make a small file expand exponentially; a real config needs a few hundred.
const maxSteps = 20_000

// step counts one unit of decoding work and reports whether to go on.
func (d *decoder) step(n *yaml.Node) bool {
	d.steps++
	if d.steps == maxSteps {
		line := 0
		if n != nil {
			line = n.Line
		}
		d.errf(line, "", "the file expands to too much data through YAML aliases (*name) and merge keys (<<); write the values out instead")
	}
	return d.steps < maxSteps
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string, top bool) {
	if !d.step(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.typeErr(n, path, "a mapping of keys (key: value lines)", false)
		return
	}
	if d.active[n] {
		d.errf(n.Line, path, "%s: a YAML alias refers to the mapping that contains it; remove the cycle", nameOrTop(path))
		return
	}
	d.active[n] = true
	defer delete(d.active, n)

	fields := fieldsOf(v.Type())
	// Merge keys ("<<: *anchor") first, so that local keys override them.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; isMerge(k) {
			d.merge(n.Content[i+1], v, path)
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if isMerge(k) {
			continue
		}
		k = resolve(k)
		if k == nil || k.Kind != yaml.ScalarNode {
			line := n.Line
			if k != nil {
				line = k.Line
			}
			d.errf(line, path, "%s: keys must be plain words, not lists or mappings", nameOrTop(path))
			continue
		}
		name := k.Value
		if first, dup := seen[name]; dup {
			d.errf(k.Line, joinKey(path, name), "duplicate key %q %s (first set at line %d); keep only one", text.Truncate(name, 61), section(path), first)
			continue
		}
		seen[name] = k.Line
		f, ok := fieldByName(fields, name)
		if !ok {
			d.unknown(k, path, fields)
			continue
		}
		key := joinKey(path, name)
		d.pos[key] = k.Line
		d.value(val, v.Field(f.index), key)
	}
	if top {
		d.secrets(v, path)
	}
}

func nameOrTop(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

func (d *decoder) merge(n *yaml.Node, v reflect.Value, path string) {
	n = resolve(n)
	switch {
	case n == nil || isNull(n):
	case n.Kind == yaml.MappingNode:
		d.mapping(n, v, path, false)
	case n.Kind == yaml.SequenceNode:
		// Earlier mappings take precedence: apply them last.
		for i := len(n.Content) - 1; i >= 0; i-- {
			m := resolve(n.Content[i])
			if m == nil || m.Kind != yaml.MappingNode {
				d.errf(n.Line, path, "%s: a merge key (<<) takes a mapping or a list of mappings", nameOrTop(path))
				continue
			}
			d.mapping(m, v, path, false)
		}
	default:
		d.errf(n.Line, path, "%s: a merge key (<<) takes a mapping or a list of mappings", nameOrTop(path))
	}
}

func (d *decoder) unknown(k *yaml.Node, path string, fields []field) {
	name := k.Value
	if len(d.errs) >= 10*maxErrors { // not shown anyway: skip the suggestions' work
		d.failed[joinKey(path, name)] = true
		return
	}
	msg := fmt.Sprintf("unknown key %q %s", text.Truncate(name, 61), section(path))
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	if s := suggest(name, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else if home := homeOf(name, path); home != "" {
		msg += fmt.Sprintf(" (%q belongs %s)", name, home)
	} else {
		msg += "; known keys here: " + strings.Join(names, ", ")
	}
	d.errf(k.Line, joinKey(path, name), "%s", msg)
}

// suggest returns the known key closest to name within edit distance 2.
func suggest(name string, known []string) string {
	best, bestD := "", 3
	ln := strings.ToLower(name)
	for _, k := range known {
		if dist := text.OSA(ln, k, bestD); dist < bestD {
			best, bestD = k, dist
		}
	}
	return best
}

// homeOf names the section(s) where a key that is unknown here exists.
func homeOf(name, path string) string {
	var homes []string
	generic := genericPath(path)
	var walk func(t reflect.Type, p string)
	walk = func(t reflect.Type, p string) {
		for _, f := range fieldsOf(t) {
			ft := t.Field(f.index).Type
			fp := joinKey(p, f.name)
			if f.name == name && p != generic {
				if p == "" {
					homes = append(homes, "at the top level")
				} else {
					homes = append(homes, "under "+p)
				}
			}
			if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
				walk(ft.Elem(), fp+"[]")
			} else if ft.Kind() == reflect.Struct && ft != durationType {
				walk(ft, fp)
			}
		}
	}
	walk(configType, "")
	return strings.Join(homes, " or ")
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

func genericPath(path string) string { return indexRE.ReplaceAllString(path, "[]") }

// describe names a node's kind for a type error, never showing a secret's value.
func describe(n *yaml.Node, secret bool) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if secret {
			return "a " + strings.TrimPrefix(n.ShortTag(), "!!") + " value"
		}
		return fmt.Sprintf("%q", text.Truncate(redact.String(n.Value), 61))
	}
	return "something else"
}

func (d *decoder) typeErr(n *yaml.Node, path, want string, secret bool) {
	d.errf(n.Line, path, "%s: expected %s, got %s", nameOrTop(path), want, describe(n, secret))
}

var scalarTags = map[string]bool{"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!timestamp": true}

func (d *decoder) str(n *yaml.Node, v reflect.Value, path string, secret bool) {
	if n.Kind != yaml.ScalarNode {
		d.typeErr(n, path, "a single value", secret)
		return
	}
	if tag := n.ShortTag(); !scalarTags[tag] {
		hint := ""
		if secret {
			hint = `; write the secret literally, as "${ENV_NAME}" or in a ` + lastKey(path) + "_file"
		}
		d.errf(n.Line, path, "%s: the YAML tag %s is not supported here%s", path, text.Truncate(tag, 41), hint)
		return
	}
	v.SetString(n.Value)
}

func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func (d *decoder) boolean(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.ScalarNode {
		switch strings.ToLower(n.Value) {
		case "true", "yes", "on":
			v.SetBool(true)
			return
		case "false", "no", "off":
			v.SetBool(false)
			return
		}
	}
	d.typeErr(n, path, "true or false", false)
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	const how = "write a Go duration such as 90s, 15m, 4h or 1h30m"
	if n.Kind != yaml.ScalarNode {
		d.typeErr(n, path, "a duration ("+how+")", false)
		return
	}
	s := strings.TrimSpace(n.Value)
	if n.ShortTag() == "!!int" || n.ShortTag() == "!!float" {
		if f, err := strconv.ParseFloat(s, 64); err == nil && f == 0 {
			v.SetInt(0)
			return
		}
		d.errf(n.Line, path, "%s: %s has no unit; %s", path, text.Truncate(s, 41), how)
		return
	}
	dur, err := time.ParseDuration(s)
	if err != nil {
		hint := how
		if strings.HasSuffix(s, "d") {
			hint = "durations have no days unit; write hours, e.g. 24h"
		}
		d.errf(n.Line, path, "%s: %q is not a duration; %s", path, text.Truncate(redact.String(s), 41), hint)
		return
	}
	if dur < 0 {
		d.errf(n.Line, path, "%s: %s is negative; %s", path, s, how)
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	want := "a list"
	if v.Type().Elem().Kind() == reflect.String {
		want = `a list, e.g. ["U0123ABCD", "123456789"]`
	}
	if n.Kind != yaml.SequenceNode {
		d.typeErr(n, path, want, false)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		key := fmt.Sprintf("%s[%d]", path, i)
		d.pos[key] = item.Line
		d.value(item, s.Index(i), key)
	}
	v.Set(s)
}

// secrets resolves every redact.Secret field of the struct v (just decoded
// from the mapping at path) from its literal, ${ENV} or *_file form.
func (d *decoder) secrets(v reflect.Value, path string) {
	fields := fieldsOf(v.Type())
	for _, f := range fields {
		if v.Type().Field(f.index).Type != secretType {
			continue
		}
		ff, ok := fieldByName(fields, f.name+"_file")
		if !ok {
			panic("config: secret " + f.name + " has no _file sibling")
		}
		sv, fv := v.Field(f.index), v.Field(ff.index)
		key, fileKey := joinKey(path, f.name), joinKey(path, ff.name)
		raw, file := sv.String(), fv.String()
		sv.SetString("")
		if d.failed[key] || d.failed[fileKey] {
			continue
		}
		switch m := envRefRE.FindStringSubmatch(raw); {
		case raw != "" && file != "":
			d.errf(d.pos[fileKey], fileKey, "%s and %s are both set; keep only one of them", key, fileKey)
		case m != nil:
			val := d.opts.getenv(m[1])
			if val == "" {
				d.errf(d.pos[key], key, "%s: environment variable %s is not set (or is empty); export %s before starting the bot, or put the secret in a file and name it in %s", key, m[1], m[1], lastKey(fileKey))
				continue
			}
			d.scrub.Add(val)
			sv.SetString(val)
		case file != "":
			b, err := d.opts.readFile(file)
			if err != nil {
				d.errf(d.pos[fileKey], fileKey, "%s: %v; fix the path (a relative path is relative to the config file's directory) or the file's permissions", fileKey, err)
				continue
			}
			val := strings.TrimRight(string(b), "\r\n")
			if val == "" {
				d.errf(d.pos[fileKey], fileKey, "%s: %s is empty; write the secret into it", fileKey, file)
				continue
			}
			d.scrub.Add(val)
			sv.SetString(val)
		default:
			d.scrub.Add(raw)
			sv.SetString(raw)
			if raw != "" {
				d.literal = append(d.literal, fmt.Sprintf("%s:%d: %s is written literally: anyone who can read this file has the secret; prefer \"${ENV_NAME}\" or %s",
					d.file, d.pos[key], key, lastKey(fileKey)))
			}
		}
	}
}

// maxSecretFile bounds a *_file's size: secrets are small.
const maxSecretFile = 64 << 10

func readSecretFile(p, dir string) ([]byte, error) {
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read the secret file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read the secret file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the secret file: %w", err)
	}
	if len(b) > maxSecretFile {
		return nil, fmt.Errorf("%s is larger than %d KiB; it should hold just the secret", p, maxSecretFile>>10)
	}
	return b, nil
}

// Equal reports whether two configs mean the same (secrets compared by
// value; where keys sit in the file is ignored).
func (c *Config) Equal(o *Config) bool {
	if c == nil || o == nil {
		return c == o
	}
	a, b := *c, *o
	a.pos, a.failed, b.pos, b.failed = nil, nil, nil, nil
	a.Warnings, b.Warnings = nil, nil
	return reflect.DeepEqual(a, b)
}
