package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/netutil"
	"github.com/openclaw-bot/openclaw-bot/internal/pgdsn"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/internal/text"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// Floors for intervals: anything shorter would hammer the install, the API
// or the chat.
const (
	MinKeyCheckEvery = time.Minute
	MinSnapshotEvery = 5 * time.Second
	MinHealthzEvery  = 10 * time.Second
	MinReadTimeout   = time.Second
	// MinHeartbeatEvery is low enough for a test fleet.
	MinHeartbeatEvery = 100 * time.Millisecond
	MinReminderEvery  = 5 * time.Minute
)

var (
	targetNameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	profileRE       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	serviceRE       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	telegramChatRE  = regexp.MustCompile(`^-?[0-9]+$`)
	telegramAlertRE = regexp.MustCompile(`^(-?[0-9]+|@[A-Za-z][A-Za-z0-9_]{3,})$`)
	// Compiled on first use: {1,256} compiles into a large program (~1 ms
	// of every command's start-up otherwise).
	webhookSecretRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`) })
)

var (
	storeDrivers  = []string{StoreSQLite, StorePostgres}
	slackModes    = []string{SlackSocket, SlackHTTP}
	telegramModes = []string{TelegramPolling, TelegramWebhook}
	logLevels     = []string{"trace", "debug", "info", "warn", "error"}
	logFormats    = []string{"auto", "json", "console"}
)

type validator struct {
	c    *Config
	errs []error
}

// Validate checks the whole configuration and reports every problem at once
// (errors.Join of *Error), each saying what to do. Parse and Load call it;
// call it yourself on a Config built or changed in code.
func (c *Config) Validate() error {
	v := &validator{c: c}
	v.store()
	v.http()
	v.anthropic()
	v.targets()
	v.slack()
	v.telegram()
	v.access()
	v.routes()
	v.maintenance()
	v.intervals()
	v.log()
	return errors.Join(v.errs...)
}

// parentKey strips the last ".name" or "[i]" from a key path.
func parentKey(key string) string {
	i := strings.LastIndexAny(key, ".[")
	if i < 0 {
		return ""
	}
	return key[:i]
}

func (v *validator) errf(key, format string, args ...any) {
	v.errfNear(key, "", format, args...)
}

// errfNear reports a problem with key; when key itself is not in the file,
// the line is that of near (the key that made key necessary), if set.
func (v *validator) errfNear(key, near, format string, args ...any) {
	line := v.c.pos[key]
	if line == 0 && near != "" {
		line = v.c.pos[near]
	}
	for k := key; k != ""; k = parentKey(k) {
		if v.c.failed[k] {
			return // already reported while decoding
		}
		if line == 0 {
			line = v.c.pos[k]
		}
	}
	v.errs = append(v.errs, &Error{File: v.c.File, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func oneOf(s string, allowed []string) bool {
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return true
		}
	}
	return false
}

func show(s string) string { return fmt.Sprintf("%q", text.Truncate(redact.String(s), 81)) }

// enum checks a choice; "" means the default and is accepted.
func (v *validator) enum(key, val string, allowed []string) {
	if val != "" && !oneOf(val, allowed) {
		v.errf(key, "%s: %s is not one of %s; pick one of those", key, show(val), strings.Join(allowed, ", "))
	}
}

func (v *validator) store() {
	s := v.c.Store
	if strings.TrimSpace(s.Path) == "" {
		v.errf("store.path", "store.path is empty; set the bot's database file, e.g. %s", DefaultStorePath)
	}
	v.enum("store.driver", s.Driver, storeDrivers)
	switch {
	case v.c.failed["store.dsn"] || v.c.failed["store.dsn_file"]:
		// already reported: an unset variable, an unreadable file, both keys
	case strings.EqualFold(s.Driver, StorePostgres) && s.DSN.IsZero():
		v.errfNear("store.dsn", "store.driver", "store.dsn is empty, and store.driver is postgres; set store.dsn: ${OPENCLAW_BOT_STORE_DSN} (a postgres:// URL or keyword=value pairs) or name a file in store.dsn_file")
	case strings.EqualFold(s.Driver, StorePostgres):
		// Never quoted: the DSN is a secret, and so may be any part of it.
		if err := pgdsn.Check(s.DSN.Reveal()); err != nil {
			v.errf(v.dsnKey(), "%s: the value is not a PostgreSQL connection string: %v", v.dsnKey(), err)
		}
	case !s.DSN.IsZero():
		v.errf(v.dsnKey(), "%s is set, but store.driver is %s; set store.driver: postgres to use it, or remove it", v.dsnKey(), show(s.Driver))
	}
}

// dsnKey is the key the DSN came from: store.dsn or store.dsn_file.
func (v *validator) dsnKey() string {
	if v.c.Store.DSNFile != "" {
		return "store.dsn_file"
	}
	return "store.dsn"
}

func (v *validator) listen(key, s string) {
	host, port, err := net.SplitHostPort(s)
	if err != nil || strings.Contains(s, "/") {
		v.errf(key, "%s: %s is not host:port; write e.g. 127.0.0.1:8080 (or :8080 for every interface), without a scheme", key, show(s))
		return
	}
	if strings.ContainsAny(host, " \t") {
		v.errf(key, "%s: the host in %s contains spaces; write e.g. 127.0.0.1:8080", key, show(s))
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		v.errf(key, "%s: the port in %s is not a number from 0 to 65535; write e.g. 127.0.0.1:8080", key, show(s))
	}
}

func (v *validator) http() {
	c := v.c
	if c.HTTP.Listen != "" {
		v.listen("http.listen", c.HTTP.Listen)
	}
	if c.Metrics.Listen != "" {
		v.listen("metrics.listen", c.Metrics.Listen)
		if c.Metrics.Listen == c.HTTP.Listen {
			v.errf("metrics.listen", "metrics.listen is the same address as http.listen; leave metrics.listen empty to serve /metrics on http.listen, or pick another port")
		}
	}
}

// httpURL checks an API base URL: https, or http:// to a loopback host.
func (v *validator) httpURL(key, s string) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" {
		shown := show(s)
		if strings.Contains(s, "@") {
			shown = "the value"
		}
		v.errf(key, "%s: %s is not an http(s) URL; write e.g. https://host/path", key, shown)
		return
	}
	if u.User != nil {
		v.errf(key, "%s: %s contains a user name or password; remove the credentials from the URL", key, show(u.Redacted()))
		return
	}
	if u.Scheme == "http" && !netutil.IsLoopback(u.Hostname()) {
		v.errf(key, "%s: %s uses plain http:// to a non-loopback host; use https:// (http:// is only allowed for 127.0.0.1, ::1 or localhost, e.g. a local fake or proxy)", key, show(s))
	}
}

func (v *validator) anthropic() {
	c := v.c
	v.httpURL("anthropic.base_url", c.Anthropic.BaseURL)
	if d := c.Anthropic.KeyCheckEvery; d != 0 && d < MinKeyCheckEvery {
		v.errf("anthropic.key_check_every", "anthropic.key_check_every: %s is too often; use 0 to turn the check off or at least %s", d, MinKeyCheckEvery)
	}
}

func (v *validator) targets() {
	c := v.c
	if len(c.Targets) == 0 {
		v.errf("targets", "targets is empty; add at least one target (name: local)")
	}
	seen := map[string]int{}
	for i := range c.Targets {
		t := &c.Targets[i]
		p := fmt.Sprintf("targets[%d]", i)
		switch {
		case t.Name == "":
			v.errf(p+".name", "%s.name is missing; give every target a short unique name such as local or prod", p)
		case !targetNameRE.MatchString(t.Name):
			v.errf(p+".name", "%s.name: %s is not a valid target name; use lower-case letters, digits, '_', '.' and '-', starting with a letter or digit", p, show(t.Name))
		default:
			if j, dup := seen[t.Name]; dup {
				v.errf(p+".name", "%s.name: %s is already the name of targets[%d]; target names must be unique", p, show(t.Name), j)
			} else {
				seen[t.Name] = i
			}
		}
		if t.StateDir != "" && t.OpenClawProfile != "" {
			v.errf(p+".openclaw_profile", "%s: state_dir and openclaw_profile are both set; keep one (a profile NAME means the state dir ~/.openclaw-NAME)", p)
		}
		if t.OpenClawProfile != "" && !profileRE.MatchString(t.OpenClawProfile) {
			v.errf(p+".openclaw_profile", "%s.openclaw_profile: %s is not a valid profile name; use letters, digits, '_' and '-', like `openclaw --profile NAME`", p, show(t.OpenClawProfile))
		}
		if strings.TrimSpace(t.OpenClawBin) == "" {
			v.errf(p+".openclaw_bin", "%s.openclaw_bin is empty; set the openclaw command or its path (default %s)", p, DefaultOpenClawBin)
		}
		if t.AnthropicBaseURL != "" {
			v.httpURL(p+".anthropic_base_url", t.AnthropicBaseURL)
		}
		if t.GatewayURL != "" {
			u, err := url.Parse(t.GatewayURL)
			if err != nil || u.Host == "" || !oneOf(u.Scheme, []string{"ws", "wss", "http", "https"}) {
				v.errf(p+".gateway_url", "%s.gateway_url: %s is not a gateway URL; write e.g. ws://127.0.0.1:18789", p, show(t.GatewayURL))
			}
		}
		if !serviceRE.MatchString(t.ComposeService) {
			v.errf(p+".compose_service", "%s.compose_service: %s is not a docker compose service name; write e.g. %s", p, show(t.ComposeService), DefaultComposeService)
		}
		v.restart(p+".restart", &t.Restart)
	}
}

// restart checks targets[].restart against the restart methods' own rules
// (openclaw/restartspec.go: the one list of methods).
func (v *validator) restart(p string, r *Restart) {
	v.enum(p+".method", r.Method, openclaw.RestartMethods)
	for _, pr := range openclaw.CheckRestart(openclaw.RestartSpec{Method: r.Method, Unit: r.Unit, Command: r.Command}) {
		near := ""
		if pr.Near != "" {
			near = p + "." + pr.Near
		}
		v.errfNear(p+"."+pr.Key, near, "%s.%s%s", p, pr.Key, pr.Msg)
	}
}

func (v *validator) slack() {
	s := &v.c.Slack
	v.enum("slack.mode", s.Mode, slackModes)
	v.httpURL("slack.api_url", s.APIURL)
	if strings.HasPrefix(s.BotToken.Reveal(), "xapp-") {
		v.errf("slack.bot_token", "slack.bot_token holds an app-level token (xapp-…); put it in slack.app_token and the bot token (xoxb-…) in slack.bot_token")
	}
	if strings.HasPrefix(s.AppToken.Reveal(), "xoxb-") {
		v.errf("slack.app_token", "slack.app_token holds a bot token (xoxb-…); put it in slack.bot_token and the app-level token (xapp-…) in slack.app_token")
	}
	if !s.Enabled() {
		return
	}
	switch strings.ToLower(s.Mode) {
	case SlackSocket, "":
		if s.AppToken.IsZero() {
			v.errfNear("slack.app_token", slackNear(v.c), "slack.app_token is required in socket mode; create an app-level token with the connections:write scope and set app_token (e.g. ${SLACK_APP_TOKEN}), or use mode: http")
		}
	case SlackHTTP:
		if s.SigningSecret.IsZero() {
			v.errfNear("slack.signing_secret", slackNear(v.c), "slack.signing_secret is required in http mode; copy the app's Signing Secret and set signing_secret (e.g. ${SLACK_SIGNING_SECRET})")
		}
		if v.c.HTTP.Listen == "" {
			v.errfNear("http.listen", "slack.mode", "http.listen is empty but slack.mode is http; set http.listen (e.g. %s) so Slack can reach /slack/commands", DefaultHTTPListen)
		}
	}
	if strings.TrimSpace(s.AlertChannel) == "" {
		v.errfNear("slack.alert_channel", "slack.bot_token", "slack.alert_channel is missing; set the id of the channel that gets alerts (e.g. C0123456789: channel details → About)")
	}
}

// slackNear is the line to blame for a missing Slack key: the mode if it is
// set, else the bot token that enabled Slack.
func slackNear(c *Config) string {
	if c.pos["slack.mode"] > 0 {
		return "slack.mode"
	}
	return "slack.bot_token"
}

// routes checks alert routing: known severities, known target names.
func (v *validator) routes() {
	for _, r := range []struct {
		section, min string
		targets      []string
	}{{"slack", v.c.Slack.AlertMinSeverity, v.c.Slack.AlertTargets}, {"telegram", v.c.Telegram.AlertMinSeverity, v.c.Telegram.AlertTargets}} {
		if r.min != "" {
			v.enum(r.section+".alert_min_severity", r.min, []string{"critical", "warning", "info"})
		}
		for i, name := range r.targets {
			if _, ok := v.c.Target(name); !ok {
				v.errf(fmt.Sprintf("%s.alert_targets[%d]", r.section, i), "%s.alert_targets: no target named %s", r.section, show(name))
			}
		}
	}
}

func (v *validator) telegram() {
	t := &v.c.Telegram
	v.enum("telegram.mode", t.Mode, telegramModes)
	v.httpURL("telegram.api_url", t.APIURL)
	if _, err := time.LoadLocation(t.Timezone); err != nil {
		v.errf("telegram.timezone", "telegram.timezone: %s is not a known time zone; write an IANA name such as UTC or Europe/Berlin", show(t.Timezone))
	}
	webhook := strings.EqualFold(t.Mode, TelegramWebhook)
	if !webhook && t.WebhookURL != "" {
		v.errf("telegram.webhook_url", "telegram.webhook_url is set but telegram.mode is %s; set mode: webhook or remove webhook_url", show(t.Mode))
	}
	if !t.WebhookSecret.IsZero() && !webhookSecretRE().MatchString(t.WebhookSecret.Reveal()) {
		v.errf("telegram.webhook_secret", "telegram.webhook_secret may only contain A-Z, a-z, 0-9, '_' and '-' (1 to 256 characters), as Telegram requires; generate one with `openssl rand -hex 32`")
	}
	if !t.Enabled() {
		return
	}
	if strings.TrimSpace(t.AlertChat) == "" {
		v.errfNear("telegram.alert_chat", "telegram.token", "telegram.alert_chat is missing; set the chat id that gets alerts (e.g. \"-1001234567890\" for a group)")
	} else if !telegramAlertRE.MatchString(t.AlertChat) {
		v.errf("telegram.alert_chat", "telegram.alert_chat: %s is not a chat id; write the numeric id (e.g. \"-1001234567890\") or a public @channelname", show(t.AlertChat))
	}
	if !webhook {
		return
	}
	if t.WebhookURL == "" {
		v.errfNear("telegram.webhook_url", "telegram.mode", "telegram.webhook_url is required in webhook mode; set the public https:// URL that reaches this bot's /telegram/webhook")
	} else if u, err := url.Parse(t.WebhookURL); err != nil || u.Scheme != "https" || u.Host == "" {
		v.errf("telegram.webhook_url", "telegram.webhook_url: %s is not an https:// URL; Telegram only delivers webhooks over https", show(t.WebhookURL))
	}
	if t.WebhookSecret.IsZero() {
		v.errfNear("telegram.webhook_secret", "telegram.mode", "telegram.webhook_secret is required in webhook mode; set it (e.g. ${TELEGRAM_WEBHOOK_SECRET}, from `openssl rand -hex 32`) so forged updates are refused")
	}
	if v.c.HTTP.Listen == "" {
		v.errf("http.listen", "http.listen is empty but telegram.mode is webhook; set http.listen (e.g. %s) so /telegram/webhook is served", DefaultHTTPListen)
	}
}

func (v *validator) access() {
	a := &v.c.Access
	ids := func(key string, list []string, check func(key, id string)) {
		for i, id := range list {
			k := fmt.Sprintf("%s[%d]", key, i)
			switch {
			case strings.TrimSpace(id) == "":
				v.errf(k, "%s is empty; write a user or chat id, or remove the entry", k)
			case strings.ContainsAny(id, " \t\r\n"):
				v.errf(k, "%s: %s contains spaces; write the bare id (Slack U…/C…, Telegram numeric id)", k, show(id))
			case check != nil:
				check(k, id)
			}
		}
	}
	users := func(k, id string) {
		if msg := checkUserKey(id); msg != "" {
			v.errf(k, "%s: %s", k, msg)
		}
	}
	ids("access.viewers", a.Viewers, users)
	ids("access.responders", a.Responders, users)
	ids("access.admins", a.Admins, users)
	ids("access.slack_channels", a.SlackChannels, func(k, id string) {
		if strings.HasPrefix(id, "#") {
			v.errf(k, "%s: %s is a channel name; write the channel id (C…) instead, since commands carry ids", k, show(id))
		}
	})
	ids("access.telegram_chats", a.TelegramChats, func(k, id string) {
		if !telegramChatRE.MatchString(id) {
			v.errf(k, "%s: %s is not a numeric Telegram chat id; write e.g. \"-1001234567890\"", k, show(id))
		}
	})
}

func (v *validator) maintenance() {
	for i, m := range v.c.Alerts.Maintenance {
		key := fmt.Sprintf("alerts.maintenance[%d]", i)
		if _, _, err := m.Window(); err != nil {
			v.errf(key, "%s: %v", key, err)
		}
		if m.Target != "" {
			if _, ok := v.c.Target(m.Target); !ok {
				v.errf(key+".target", "%s.target: no target named %s", key, show(m.Target))
			}
		}
	}
}

func (v *validator) intervals() {
	c := v.c
	floor := func(key string, d, min time.Duration) {
		if d < min {
			v.errf(key, "%s: %s is too short; use at least %s", key, d, min)
		}
	}
	floor("scheduler.snapshot_every", c.Scheduler.SnapshotEvery, MinSnapshotEvery)
	floor("scheduler.healthz_every", c.Scheduler.HealthzEvery, MinHealthzEvery)
	floor("scheduler.read_timeout", c.Scheduler.ReadTimeout, MinReadTimeout)
	floor("alerts.reminder_every", c.Alerts.ReminderEvery, MinReminderEvery)
	floor("fleet.heartbeat_every", c.Fleet.HeartbeatEvery, MinHeartbeatEvery)
	if n := c.Instance.Name; n != "" && !instanceName.MatchString(n) {
		v.errf("instance.name", "instance.name: %s is not a name: use 1-63 letters, digits, '.', '_' or '-' (default: the host name)", show(n))
	}
}

// instanceName is what instance.name may be.
var instanceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

func (v *validator) log() {
	v.enum("log.level", v.c.Log.Level, logLevels)
	v.enum("log.format", v.c.Log.Format, logFormats)
}
