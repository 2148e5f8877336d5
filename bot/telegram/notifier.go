package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// DefaultAPIURL is the public Bot API server (telegram.api_url default).
const DefaultAPIURL = "https://api.telegram.org"

// Pacing defaults (Telegram bot FAQ: about one message per second in a chat,
// at most 20 messages per minute in a group).
const (
	DefaultPrivateInterval = time.Second
	DefaultGroupPerMinute  = 20
	// DefaultGlobalPerSecond: Telegram's bot-wide limit for bulk
	// messages, about 30 a second across all chats.
	DefaultGlobalPerSecond = 30
)

// Options configure a Notifier. The zero value is usable.
type Options struct {
	// Location is telegram.timezone (nil: UTC).
	Location *time.Location
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// PrivateInterval is the least time between two messages (sends and
	// edits) to one chat; it applies to groups too (default 1s).
	PrivateInterval time.Duration
	// GroupPerMinute caps messages per rolling minute to a group or channel
	// (chat ids < 0, or "@channel"); default 20.
	GroupPerMinute int
	// GlobalPerSecond caps messages per second across all chats (any two
	// sends are at least 1s/GlobalPerSecond apart); default 30.
	GlobalPerSecond int
	// Scrubber removes more secrets from errors, logs and sent text; the
	// bot token and credential-shaped strings are always removed.
	Scrubber *redact.Scrubber

	// sleep waits d or until ctx ends (tests inject a fake clock).
	sleep func(ctx context.Context, d time.Duration) error
}

// Notifier delivers bot messages to Telegram chats. Safe for concurrent use.
type Notifier struct {
	api   *tgbotapi.BotAPI
	opts  Options
	scrub func(string) string
	log   zerolog.Logger

	mu    sync.Mutex
	chats map[string]*chatPace
	// sends are the reserved send times of the last second and later,
	// sorted (the bot-wide cap).
	sends []time.Time
}

type chatPace struct {
	last       time.Time   // reserved time of the latest send
	recent     []time.Time // reserved times within the last minute (groups)
	floodUntil time.Time   // 429 retry_after: no calls before this
}

var _ bot.Notifier = (*Notifier)(nil)

// NewNotifier returns a Notifier sending through api.
func NewNotifier(api *tgbotapi.BotAPI, log zerolog.Logger, opts Options) *Notifier {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PrivateInterval <= 0 {
		opts.PrivateInterval = DefaultPrivateInterval
	}
	if opts.GroupPerMinute <= 0 {
		opts.GroupPerMinute = DefaultGroupPerMinute
	}
	if opts.GlobalPerSecond <= 0 {
		opts.GlobalPerSecond = DefaultGlobalPerSecond
	}
	if opts.sleep == nil {
		opts.sleep = sleepCtx
	}
	return &Notifier{
		api:   api,
		opts:  opts,
		scrub: Scrub(api.Token, opts.Scrubber),
		log:   log,
		chats: map[string]*chatPace{},
	}
}

// Name implements bot.Notifier.
func (n *Notifier) Name() string { return "telegram" }

// Send implements bot.Notifier. dest is a chat id ("-1001234567890", "555")
// or a public channel "@name". With prev == nil it sends a new message;
// otherwise it edits prev (text and keyboard; "message is not modified"
// counts as success, and a message that can no longer be edited is sent
// anew). Errors are scrubbed of the token; a *bot.RetryError is temporary.
func (n *Notifier) Send(ctx context.Context, dest string, msg bot.Message, prev *bot.Sent) (bot.Sent, error) {
	if prev != nil && prev.Channel != "" {
		dest = prev.Channel
	}
	chat, err := parseChat(dest)
	if err != nil {
		return bot.Sent{}, err
	}
	if err := Validate(msg); err != nil {
		n.log.Warn().Str("chat", dest).Str("ref", msg.Ref).Str("err", n.scrub(err.Error())).Msg("telegram: buttons left out of the message")
	}
	text, kb := Render(msg, n.opts.Location, n.opts.Now())
	text = n.scrub(text)
	if UTF16Len(text) > MaxTextLen { // scrubbing can lengthen short secrets
		text = TruncateHTML(text, MaxTextLen)
	}

	if prev != nil {
		id, err := strconv.Atoi(prev.ID)
		if err != nil || id <= 0 {
			return bot.Sent{}, fmt.Errorf("telegram: cannot edit message %q in %s: not a Telegram message id", n.scrub(prev.ID), dest)
		}
		edit := tgbotapi.EditMessageTextConfig{
			BaseEdit:              tgbotapi.BaseEdit{ChatID: chat.id, ChannelUsername: chat.username, MessageID: id, ReplyMarkup: kb},
			Text:                  text,
			ParseMode:             tgbotapi.ModeHTML,
			DisableWebPagePreview: true,
		}
		_, err = n.call(ctx, chat, "editMessageText", edit)
		var ae *APIError
		switch {
		case err == nil:
			return bot.Sent{Channel: dest, ID: prev.ID}, nil
		case errors.As(err, &ae) && ae.NotModified():
			return bot.Sent{Channel: dest, ID: prev.ID}, nil
		case errors.As(err, &ae) && ae.EditGone():
			n.log.Warn().Str("chat", dest).Str("message_id", prev.ID).Str("err", n.scrub(err.Error())).Msg("telegram: the message to edit is gone, sending a new one")
		default:
			return bot.Sent{}, err
		}
	}

	send := tgbotapi.MessageConfig{
		BaseChat:              tgbotapi.BaseChat{ChatID: chat.id, ChannelUsername: chat.username},
		Text:                  text,
		ParseMode:             tgbotapi.ModeHTML,
		DisableWebPagePreview: true,
	}
	if kb != nil {
		send.ReplyMarkup = *kb
	}
	res, err := n.call(ctx, chat, "sendMessage", send)
	if err != nil {
		return bot.Sent{}, err
	}
	var m tgbotapi.Message
	if err := json.Unmarshal(res, &m); err != nil || m.MessageID == 0 {
		return bot.Sent{}, &bot.RetryError{Err: fmt.Errorf("telegram sendMessage to %s: unexpected result %.200q", dest, n.scrub(string(res)))}
	}
	return bot.Sent{Channel: dest, ID: strconv.Itoa(m.MessageID)}, nil
}

type chatRef struct {
	key      string
	id       int64
	username string
	group    bool
}

func parseChat(dest string) (chatRef, error) {
	dest = strings.TrimSpace(dest)
	if strings.HasPrefix(dest, "@") && len(dest) > 1 {
		return chatRef{key: dest, username: dest, group: true}, nil
	}
	id, err := strconv.ParseInt(dest, 10, 64)
	if err != nil || id == 0 {
		return chatRef{}, fmt.Errorf("telegram: %q is not a chat id: use the numeric id (e.g. -1001234567890 for a group, a user id for a private chat) or @channelname", dest)
	}
	return chatRef{key: dest, id: id, group: id < 0}, nil
}

// call paces, performs one API request with ctx, and classifies its error.
func (n *Notifier) call(ctx context.Context, chat chatRef, method string, c tgbotapi.Chattable) (json.RawMessage, error) {
	if err := n.pace(ctx, chat); err != nil {
		return nil, err
	}
	api := *n.api // shallow copy: per-call client carrying ctx
	api.Client = ctxClient{ctx: ctx, c: n.api.Client}
	resp, err := api.Request(c)
	if err != nil {
		err = n.classify(ctx, method, chat.key, err)
		var re *bot.RetryError
		if errors.As(err, &re) && re.After > 0 {
			n.flood(chat.key, re.After)
		}
		n.log.Debug().Str("method", method).Str("chat", chat.key).Str("err", n.scrub(err.Error())).Msg("telegram: request failed")
		return nil, err
	}
	return resp.Result, nil
}

type ctxClient struct {
	ctx context.Context
	c   tgbotapi.HTTPClient
}

func (c ctxClient) Do(r *http.Request) (*http.Response, error) { return c.c.Do(r.WithContext(c.ctx)) }

// pace waits until chat may receive another message.
func (n *Notifier) pace(ctx context.Context, chat chatRef) error {
	now := n.opts.Now()
	n.mu.Lock()
	p := n.chats[chat.key]
	if p == nil {
		p = &chatPace{}
		n.chats[chat.key] = p
		if len(n.chats) > 1024 {
			n.pruneLocked(now)
		}
	}
	if wait := p.floodUntil.Sub(now); wait > 0 {
		n.mu.Unlock()
		return &bot.RetryError{After: wait, Err: fmt.Errorf("telegram: chat %s is rate limited by Telegram for another %s", chat.key, wait.Round(time.Second))}
	}
	at := now
	if !p.last.IsZero() {
		at = later(at, p.last.Add(n.opts.PrivateInterval))
	}
	if chat.group {
		cut := 0
		for cut < len(p.recent) && !p.recent[cut].After(now.Add(-time.Minute)) {
			cut++
		}
		p.recent = p.recent[cut:]
		if len(p.recent) >= n.opts.GroupPerMinute {
			at = later(at, p.recent[len(p.recent)-n.opts.GroupPerMinute].Add(time.Minute))
		}
	}
	at = n.reserveGlobalLocked(now, at)
	if chat.group {
		p.recent = append(p.recent, at)
	}
	p.last = at
	n.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		n.log.Debug().Str("chat", chat.key).Dur("wait", d).Msg("telegram: pacing")
		if err := n.opts.sleep(ctx, d); err != nil {
			return &bot.RetryError{Err: fmt.Errorf("telegram: waiting to send to %s: %w", chat.key, err)}
		}
	}
	return nil
}

// reserveGlobalLocked returns the earliest time ≥ at that is at least
// 1s/GlobalPerSecond away from every other reserved send, and reserves it:
// no second then holds more than GlobalPerSecond sends, and a chat never
// waits for a slot that is free.
func (n *Notifier) reserveGlobalLocked(now, at time.Time) time.Time {
	per := time.Duration(n.opts.GlobalPerSecond)
	gap := (time.Second + per - 1) / per // rounded up: never GlobalPerSecond+1 in a second
	cut := 0
	for cut < len(n.sends) && n.sends[cut].Before(now.Add(-time.Second)) {
		cut++
	}
	n.sends = n.sends[cut:]
	i := 0
	for ; i < len(n.sends); i++ {
		r := n.sends[i]
		if !r.After(at.Add(-gap)) {
			continue // far enough before
		}
		if r.Before(at.Add(gap)) {
			at = r.Add(gap) // too close: after it
			continue
		}
		break // the first one far enough after
	}
	n.sends = slices.Insert(n.sends, i, at)
	return at
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (n *Notifier) pruneLocked(now time.Time) {
	for k, p := range n.chats {
		if now.Sub(p.last) > time.Minute && now.After(p.floodUntil) {
			delete(n.chats, k)
		}
	}
}

func (n *Notifier) flood(key string, d time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p := n.chats[key]; p != nil {
		p.floodUntil = later(p.floodUntil, n.opts.Now().Add(d))
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// APIError is a Bot API error answer, scrubbed, with a hint on what to do.
type APIError struct {
	Method      string
	Chat        string
	Code        int
	Description string
	RetryAfter  time.Duration
	// MigrateTo is the new supergroup id when a group was upgraded.
	MigrateTo int64
	Hint      string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("telegram %s", e.Method)
	if e.Chat != "" {
		s += " to " + e.Chat
	}
	s += fmt.Sprintf(": %d %s", e.Code, e.Description)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// NotModified reports Telegram's answer to an edit that changes nothing.
func (e *APIError) NotModified() bool {
	return e.Code == 400 && strings.Contains(strings.ToLower(e.Description), "message is not modified")
}

// EditGone reports that the message to edit no longer exists or cannot be
// edited any more.
func (e *APIError) EditGone() bool {
	d := strings.ToLower(e.Description)
	return e.Code == 400 && (strings.Contains(d, "message to edit not found") || strings.Contains(d, "message can't be edited"))
}

// hint says what to do about a permanent error.
func hint(code int, desc string, migrate int64) string {
	d := strings.ToLower(desc)
	switch {
	case migrate != 0:
		return fmt.Sprintf("the group was upgraded to a supergroup: set telegram.alert_chat (and access.telegram_chats) to %d", migrate)
	case strings.Contains(d, "chat not found"):
		return "check the chat id in telegram.alert_chat; the bot must be a member of the group, or the user must have started a private chat with it"
	case strings.Contains(d, "bot was blocked"):
		return "the user blocked the bot: they must unblock it and send /start"
	case strings.Contains(d, "bot was kicked"), strings.Contains(d, "not a member"), strings.Contains(d, "chat_write_forbidden"), strings.Contains(d, "not enough rights"):
		return "add the bot back to the chat and allow it to post messages"
	case strings.Contains(d, "can't initiate conversation"), strings.Contains(d, "user is deactivated"):
		return "the user must open a private chat with the bot and press Start"
	case strings.Contains(d, "can't parse entities"):
		return "the message markup was rejected; this is a bug in openclaw-bot's Telegram renderer, please report it with this error"
	case strings.Contains(d, "message is too long"):
		return "the message is over 4096 characters; this is a bug in openclaw-bot's Telegram renderer"
	case strings.Contains(d, "button_data_invalid"):
		return "a button's callback data is over 64 bytes; this is a bug in openclaw-bot"
	case code == 401:
		return "the bot token was rejected: check telegram.token (get the current one from @BotFather)"
	case code == 404:
		return "telegram.api_url does not look like a Bot API server (or the token is malformed)"
	case code == 403:
		return "the bot may not post in this chat: add it to the chat and allow it to post"
	}
	return ""
}

// classify turns an error from the library into a scrubbed permanent error
// or a *bot.RetryError.
func (n *Notifier) classify(ctx context.Context, method, chat string, err error) error {
	return classifyErr(ctx, n.scrub, method, chat, err)
}

func classifyErr(ctx context.Context, scrub func(string) string, method, chat string, err error) error {
	var te *tgbotapi.Error
	if errors.As(err, &te) {
		ae := &APIError{
			Method: method, Chat: chat, Code: te.Code, Description: scrub(te.Message),
			RetryAfter: time.Duration(te.RetryAfter) * time.Second, MigrateTo: te.MigrateToChatID,
		}
		switch {
		case te.Code == http.StatusTooManyRequests:
			ae.Hint = "flood control"
			after := ae.RetryAfter
			if after <= 0 {
				after = time.Second
			}
			return &bot.RetryError{After: after, Err: ae}
		case te.Code >= 500 || te.Code == 0:
			return &bot.RetryError{Err: ae}
		}
		ae.Hint = hint(te.Code, te.Message, te.MigrateToChatID)
		return ae
	}
	msg := scrub(err.Error())
	target := fmt.Sprintf("telegram %s", method)
	if chat != "" {
		target += " to " + chat
	}
	if ctx.Err() != nil {
		return &bot.RetryError{Err: &scrubbedError{msg: target + ": " + msg, cause: ctx.Err()}}
	}
	var ue *url.Error
	var ne net.Error
	var se *json.SyntaxError
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &ue), errors.As(err, &ne):
		return &bot.RetryError{Err: &scrubbedError{msg: target + ": cannot reach the Bot API: " + msg}}
	case errors.As(err, &se), errors.As(err, &ute), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &bot.RetryError{Err: &scrubbedError{msg: target + ": the Bot API answered something that is not Bot API JSON (a proxy error page?): " + msg}}
	}
	return &scrubbedError{msg: target + ": " + msg}
}

// scrubbedError carries a scrubbed message. It does not unwrap to the
// original error (whose text may hold the token); it only matches
// context.Canceled / DeadlineExceeded with errors.Is when that was the cause.
type scrubbedError struct {
	msg   string
	cause error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Is(target error) bool {
	return e.cause != nil && errors.Is(e.cause, target)
}

// botPathRE matches "bot<digits>:<anything up to a delimiter>", the token
// part of a Bot API URL path, whatever the token's length.
var botPathRE = regexp.MustCompile(`\bbot[0-9]+:[^/\s"'?&<>]+`)

// Scrub returns a function removing the token (and extra's values and
// credential-shaped strings) from s. Use it on anything about Telegram that
// is logged or shown.
func Scrub(token string, extra *redact.Scrubber) func(string) string {
	own := redact.NewScrubber()
	if token != "" {
		own.Add(token, url.PathEscape(token), url.QueryEscape(token))
	}
	return func(s string) string {
		s = own.String(extra.String(s))
		s = botPathRE.ReplaceAllString(s, "bot"+redact.Placeholder)
		if token != "" && strings.Contains(s, token) { // token shorter than the Scrubber's minimum
			s = strings.ReplaceAll(s, token, redact.Placeholder)
		}
		return s
	}
}

// NewAPI connects to the Bot API at apiURL (empty: DefaultAPIURL; a
// self-hosted server or the test fake otherwise) with token, using client
// (nil: a client with a 75 s timeout, enough for 60 s long polls). Like
// tgbotapi's constructor it calls getMe, so it fails when the server cannot
// be reached: that error is a *bot.RetryError (retry in the background, do
// not exit), a rejected token or wrong URL is permanent. Every error is
// scrubbed of the token.
func NewAPI(token redact.Secret, apiURL string, client *http.Client) (*tgbotapi.BotAPI, error) {
	tok := token.Reveal()
	scrub := Scrub(tok, nil)
	if tok == "" {
		return nil, errors.New("telegram: telegram.token is empty: create a bot with @BotFather and set TELEGRAM_BOT_TOKEN")
	}
	if !tokenRE.MatchString(tok) {
		return nil, errors.New("telegram: telegram.token does not look like a bot token (expected <bot id>:<secret> as given by @BotFather)")
	}
	endpoint, shown, err := Endpoint(apiURL)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{Timeout: 75 * time.Second}
	}
	api, err := tgbotapi.NewBotAPIWithClient(tok, endpoint, client)
	if err != nil {
		err = classifyErr(context.Background(), scrub, "getMe", "", err)
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.Code == 401:
			return nil, fmt.Errorf("telegram: the Bot API at %s rejected the token (401 Unauthorized): check telegram.token; @BotFather shows the current token (/token) and revoking makes old ones invalid", shown)
		case errors.As(err, &ae) && ae.Code == 404:
			return nil, fmt.Errorf("telegram: %s answered getMe with 404 Not Found: telegram.api_url must be the Bot API server's base URL (like %s), without /bot<token>", shown, DefaultAPIURL)
		}
		var re *bot.RetryError
		if errors.As(err, &re) {
			return nil, &bot.RetryError{After: re.After, Err: fmt.Errorf("telegram: cannot reach the Bot API at %s (check network, proxy and telegram.api_url; retrying later): %w", shown, re.Err)}
		}
		return nil, fmt.Errorf("telegram: connecting to %s: %w", shown, err)
	}
	return api, nil
}

var tokenRE = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)

// Endpoint turns telegram.api_url into the library's endpoint format string
// (base + "/bot%s/%s") and a form safe to show (no userinfo).
func Endpoint(apiURL string) (endpoint, shown string, err error) {
	apiURL = strings.TrimSpace(apiURL)
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("telegram: telegram.api_url %q must be an http(s) base URL like %s", botPathRE.ReplaceAllString(redact.String(apiURL), "bot"+redact.Placeholder), DefaultAPIURL)
	}
	if strings.Contains(u.Path, "/bot") {
		return "", "", fmt.Errorf("telegram: telegram.api_url (%s://%s/…) must be the server's base URL like %s, without /bot<token>", u.Scheme, u.Host, DefaultAPIURL)
	}
	base := strings.TrimRight(u.String(), "/")
	return strings.ReplaceAll(base, "%", "%%") + "/bot%s/%s", strings.TrimRight(u.Redacted(), "/"), nil
}

// LibraryLogger returns a tgbotapi.BotLogger (for tgbotapi.SetLogger, which
// is global) that writes scrubbed lines to l at warn level.
func LibraryLogger(l zerolog.Logger, token string, extra *redact.Scrubber) tgbotapi.BotLogger {
	return libLogger{l: l, scrub: Scrub(token, extra)}
}

type libLogger struct {
	l     zerolog.Logger
	scrub func(string) string
}

func (g libLogger) Println(v ...any) {
	g.l.Warn().Str("lib", "telegram-bot-api").Msg(g.scrub(strings.TrimSuffix(fmt.Sprintln(v...), "\n")))
}
func (g libLogger) Printf(format string, v ...any) {
	g.l.Warn().Str("lib", "telegram-bot-api").Msg(g.scrub(strings.TrimSuffix(fmt.Sprintf(format, v...), "\n")))
}
