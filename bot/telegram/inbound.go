package telegram

// Inbound side of the Telegram surface: commands and button presses coming
// from Telegram (long polling in inbound_poll.go, webhook in
// inbound_webhook.go) are turned into bot.Request / bot.Press, given to a
// bot.Handler, and the handler's bot.Reply is sent back.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/internal/text"
)

// Inbound defaults.
const (
	DefaultMaxConcurrent  = 8
	DefaultPollTimeout    = 30 * time.Second
	DefaultMinBackoff     = time.Second
	DefaultMaxBackoff     = time.Minute
	DefaultAnswerWithin   = time.Second
	DefaultHandlerTimeout = 5 * time.Minute
	DefaultShutdownGrace  = 5 * time.Second
	DefaultMaxWebhookBody = 1 << 20
	// MaxToastLen is the answerCallbackQuery text limit in characters.
	MaxToastLen = 200
	// maxReplyParts caps how many messages one long reply is split into.
	maxReplyParts = 4
	// previewTTL is how long a sent preview (Confirm/Cancel) is remembered
	// so that its outcome edits it (previews are valid 2 minutes).
	previewTTL  = 3 * time.Minute
	callTimeout = 30 * time.Second
)

// AllowedUpdates are the update types the bot asks Telegram for.
var AllowedUpdates = []string{"message", "callback_query"}

// InboundOptions configure RunPolling and NewWebhookHandler. The zero value
// is usable (webhook mode needs WebhookSecret).
type InboundOptions struct {
	// BotUsername is the bot's @username without "@", used to tell
	// "/status@thisbot" from "/status@otherbot". Empty: api.Self.UserName.
	BotUsername string
	// MaxConcurrent bounds how many updates are handled at once (default
	// DefaultMaxConcurrent). Polling waits for a free slot; the webhook
	// waits a little, then answers 503 so that Telegram redelivers.
	MaxConcurrent int
	// Logger receives scrubbed diagnostics (nil: discarded).
	Logger *zerolog.Logger
	// Location is telegram.timezone for rendered times (nil: UTC).
	Location *time.Location
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	// OnState is told when polling works (a getUpdates answered: true) and
	// when it fails or stops (false): readiness and metrics.
	OnState func(connected bool)

	// WebhookSecret is telegram.webhook_secret: the webhook handler
	// refuses (401) every request whose X-Telegram-Bot-Api-Secret-Token
	// differs; with none set it refuses all. Also scrubbed from output.
	WebhookSecret redact.Secret
	// Scrubber removes more secrets from logs, errors and sent text; the
	// bot token, WebhookSecret and credential-shaped strings always are.
	Scrubber *redact.Scrubber
	// PollTimeout is the getUpdates long-poll timeout (default 30 s,
	// whole seconds, at least 1 s; kept 5 s under the API client's
	// http.Client.Timeout when it has one).
	PollTimeout time.Duration
	// MinBackoff and MaxBackoff bound the jittered exponential backoff
	// after a failed getUpdates/deleteWebhook (defaults 1 s and 1 min). A
	// 429 waits its retry_after instead.
	MinBackoff, MaxBackoff time.Duration
	// AnswerWithin is how long a button press waits for the handler before
	// answerCallbackQuery is sent without a toast (default 1 s).
	AnswerWithin time.Duration
	// HandlerTimeout bounds one update's handling, reply included
	// (default 5 min).
	HandlerTimeout time.Duration
	// ShutdownGrace is how long RunPolling lets in-flight handlers finish
	// after its context ends before cancelling them (default 5 s).
	ShutdownGrace time.Duration
	// MaxBody is the webhook request body limit (default 1 MiB).
	MaxBody int64
}

func (o InboundOptions) withDefaults(api *tgbotapi.BotAPI) InboundOptions {
	o.BotUsername = strings.TrimPrefix(strings.TrimSpace(o.BotUsername), "@")
	if o.BotUsername == "" {
		o.BotUsername = api.Self.UserName
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.Logger == nil {
		nop := zerolog.Nop()
		o.Logger = &nop
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = DefaultPollTimeout
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.AnswerWithin <= 0 {
		o.AnswerWithin = DefaultAnswerWithin
	}
	if o.HandlerTimeout <= 0 {
		o.HandlerTimeout = DefaultHandlerTimeout
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = DefaultShutdownGrace
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxWebhookBody
	}
	return o
}

// ---------------------------------------------------------------------------
// Command parsing

// Commander is implemented by a handler that lists its chat commands (the
// router: its registry). They are the bot's command menu (setMyCommands)
// and the commands answered in a group without an @mention; a handler
// without it gets only /openclaw there.
type Commander interface {
	Commands() []bot.CommandInfo
}

// openclawCommand is Telegram's own entry: any command as typed in Slack.
var openclawCommand = tgbotapi.BotCommand{Command: "openclaw", Description: "/openclaw <command>: any command as typed in Slack"}

// menu is the bot's command menu and what its names stand for.
type menu struct {
	list []tgbotapi.BotCommand
	// known maps the names answered without an @mention to grammar words:
	// the menu's, the first words of multi-word commands ("/cooldown reset
	// x") and /start (what a Telegram client sends on "Start").
	known map[string]string
}

func newMenu(cmds []bot.CommandInfo) menu {
	m := menu{known: map[string]string{"start": "help"}}
	for _, c := range cmds {
		m.list = append(m.list, tgbotapi.BotCommand{Command: c.Telegram, Description: c.Description})
		m.known[c.Telegram] = c.Name
		if first, _, multi := strings.Cut(c.Name, " "); multi {
			if _, ok := m.known[first]; !ok {
				m.known[first] = first
			}
		}
	}
	m.list = append(m.list, openclawCommand)
	return m
}

func menuOf(h bot.Handler) menu {
	var cmds []bot.CommandInfo
	if c, ok := h.(Commander); ok {
		cmds = c.Commands()
	}
	return newMenu(cmds)
}

// ParseCommand turns a Telegram message text into the chat grammar the
// handler understands, or reports ok == false when text is not a command
// for this bot; cmds are the handler's (Commander). Accepted forms:
// "/status", "/status@botname", "/openclaw status", "/openclaw@botname
// cooldown reset anthropic:default" and "/cooldown_reset anthropic:default"
// (→ "cooldown reset anthropic:default"); "/doctor_fix" → "doctor fix", "/probe_spend" →
// "probe --spend", "/start" and a bare "/openclaw" → "help". Command names
// are matched case-insensitively and lower-cased; arguments are kept as
// typed, with runs of white space collapsed to one space.
//
// A command addressed to another bot ("/status@otherbot") is not ok, and so
// is an unknown command that is not addressed to this bot by name
// ("/weather" may be for another bot in the group). botUsername may carry a
// leading "@"; when it is empty, addressed commands are not checked.
func ParseCommand(text, botUsername string, cmds []bot.CommandInfo) (grammar string, ok bool) {
	g, valid, known, addressed := newMenu(cmds).parse(text, botUsername)
	if !valid || !(known || addressed) {
		return "", false
	}
	return g, true
}

// parse is ParseCommand's detail: valid means a syntactically valid
// command not addressed to another bot; known that its name is one of ours
// (or /openclaw); addressed that it names this bot.
func (m menu) parse(text, botUsername string) (grammar string, valid, known, addressed bool) {
	if !strings.HasPrefix(text, "/") {
		return "", false, false, false
	}
	tok, rest := text, ""
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		tok, rest = text[:i], text[i:]
	}
	name, at, hasAt := strings.Cut(tok[1:], "@")
	if hasAt {
		want := strings.TrimPrefix(strings.TrimSpace(botUsername), "@")
		if at == "" || (want != "" && !strings.EqualFold(at, want)) {
			return "", false, false, false
		}
		addressed = true
	}
	if !validCommandName(name) {
		return "", false, false, false
	}
	name = strings.ToLower(name)
	args := strings.Fields(rest)
	if name == openclawCommand.Command {
		// "/openclaw cooldown_reset x" as well as "/openclaw cooldown reset x".
		for len(args) > 0 && strings.Contains(args[0], "_") && validCommandName(args[0]) {
			if first := m.expand(strings.ToLower(args[0])); first != "" {
				args[0] = first
				break
			}
			args = args[1:] // "___"
		}
		if len(args) == 0 {
			return "help", true, true, addressed
		}
		return strings.Join(args, " "), true, true, addressed
	}
	head := m.expand(name)
	if head == "" {
		return "", false, false, false
	}
	_, known = m.known[name]
	return strings.Join(append([]string{head}, args...), " "), true, known, addressed
}

// expand maps a lower-case command name to grammar words.
func (m menu) expand(name string) string {
	if g, ok := m.known[name]; ok {
		return g
	}
	return strings.Join(strings.FieldsFunc(name, func(r rune) bool { return r == '_' }), " ")
}

// validCommandName: Telegram bot command names are 1-32 of [a-z0-9_]
// (clients send them as typed, so upper case is accepted too).
func validCommandName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// Shared update handling

// inbound holds what polling and the webhook share: parsing, the bounded
// worker pool, handler calls and reply delivery.
type inbound struct {
	api   *tgbotapi.BotAPI
	h     bot.Handler
	menu  menu
	opts  InboundOptions
	scrub func(string) string
	log   zerolog.Logger
	// onState reports polling health (RunPolling only).
	onState func(bool)

	sem chan struct{}
	wg  sync.WaitGroup

	mu       sync.Mutex
	previews map[previewKey]time.Time // sent Confirm/Cancel previews → expiry
}

type previewKey struct {
	chat int64
	msg  int
}

func newInbound(api *tgbotapi.BotAPI, h bot.Handler, opts InboundOptions) *inbound {
	opts = opts.withDefaults(api)
	in := &inbound{
		api:      api,
		h:        h,
		menu:     menuOf(h),
		opts:     opts,
		scrub:    inboundScrub(api.Token, opts.WebhookSecret, opts.Scrubber),
		log:      opts.Logger.With().Str("surface", bot.SurfaceTelegram).Logger(),
		sem:      make(chan struct{}, opts.MaxConcurrent),
		previews: map[previewKey]time.Time{},
	}
	if len(in.menu.list) == 1 {
		in.log.Warn().Msg("telegram: the handler lists no commands (no Commands method): in groups only /openclaw and commands to @" + opts.BotUsername + " are answered")
	}
	return in
}

// inboundScrub removes the token, the webhook secret, extra's values and
// credential-shaped strings.
func inboundScrub(token string, secret redact.Secret, extra *redact.Scrubber) func(string) string {
	base := Scrub(token, extra)
	sec := secret.Reveal()
	own := redact.NewScrubber(sec)
	return func(s string) string {
		s = own.String(base(s))
		if len(sec) >= 4 && strings.Contains(s, sec) { // shorter than the Scrubber's minimum
			s = strings.ReplaceAll(s, sec, redact.Placeholder)
		}
		return s
	}
}

// job is the work for one update.
type job struct {
	run func(ctx context.Context)
	// cq is set for a callback query: when no worker is free at once, it
	// is answered right away (see answerNow) so the client's spinner stops.
	cq       *tgbotapi.CallbackQuery
	answered bool
}

// answerNow answers a callback query before the job starts (no toast).
func (in *inbound) answerNow(ctx context.Context, j *job) {
	if j.cq != nil && !j.answered {
		j.answered = true
		in.answer(ctx, j.cq.ID, "")
	}
}

// jobFor returns the work for u, or nil when u is ignored.
func (in *inbound) jobFor(u *tgbotapi.Update) *job {
	switch {
	case u.Message != nil:
		m := u.Message
		if m.From == nil || m.From.IsBot || m.Chat == nil {
			return nil
		}
		grammar, valid, known, addressed := in.menu.parse(m.Text, in.opts.BotUsername)
		if !valid || !(known || addressed || m.Chat.IsPrivate()) {
			return nil
		}
		return &job{run: func(ctx context.Context) { in.handleCommand(ctx, m, grammar) }}
	case u.CallbackQuery != nil:
		cq := u.CallbackQuery
		if cq.From == nil || cq.ID == "" {
			return nil
		}
		j := &job{cq: cq}
		j.run = func(ctx context.Context) { in.handlePress(ctx, cq, j.answered) }
		return j
	}
	return nil
}

func (in *inbound) tryAcquire() bool {
	select {
	case in.sem <- struct{}{}:
		return true
	default:
		return false
	}
}

// start runs j in a new goroutine holding an already acquired slot.
func (in *inbound) start(ctx context.Context, j *job) {
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		defer func() { <-in.sem }()
		ctx, cancel := context.WithTimeout(ctx, in.opts.HandlerTimeout)
		defer cancel()
		j.run(ctx)
	}()
}

func userName(u *tgbotapi.User) string {
	if u.UserName != "" {
		return u.UserName
	}
	return u.FirstName
}

func (in *inbound) handleCommand(ctx context.Context, m *tgbotapi.Message, grammar string) {
	ctx = bot.WithRequestID(ctx, bot.NewRequestID()) // the router logs it too
	log := in.log.With().Str("req", bot.RequestID(ctx)).Logger()
	req := bot.Request{
		Surface:  bot.SurfaceTelegram,
		UserID:   strconv.FormatInt(m.From.ID, 10),
		UserName: userName(m.From),
		Where:    strconv.FormatInt(m.Chat.ID, 10),
		Private:  m.Chat.IsPrivate(),
		Text:     grammar,
	}
	log.Debug().Str("user", req.UserID).Str("chat", req.Where).Str("command", in.scrub(grammar)).Msg("telegram: command")
	r := in.safeHandle(ctx, req)
	if emptyMessage(r.Message) {
		return
	}
	if r.Ephemeral && !req.Private {
		// Telegram has no per-user messages in groups: answer privately.
		_, err := in.send(ctx, m.From.ID, 0, r.Message)
		if err == nil {
			return
		}
		log.Info().Str("user", req.UserID).Str("err", err.Error()).Msg("telegram: cannot answer privately, telling the group")
		notice := bot.Message{
			Kind: bot.KindReply, Severity: bot.SevInfo,
			Title: "I can't message you privately",
			Text:  bot.Line(bot.T("Open a private chat with "), bot.B("@"+in.opts.BotUsername), bot.T(", press Start, then try again.")),
		}
		if _, err := in.send(ctx, m.Chat.ID, m.MessageID, notice); err != nil {
			log.Warn().Str("chat", req.Where).Str("err", err.Error()).Msg("telegram: reply not delivered")
		}
		return
	}
	if _, err := in.send(ctx, m.Chat.ID, m.MessageID, r.Message); err != nil {
		log.Warn().Str("chat", req.Where).Str("err", err.Error()).Msg("telegram: reply not delivered")
	}
}

func (in *inbound) handlePress(ctx context.Context, cq *tgbotapi.CallbackQuery, answered bool) {
	ctx = bot.WithRequestID(ctx, bot.NewRequestID())
	log := in.log.With().Str("req", bot.RequestID(ctx)).Logger()
	p := bot.Press{
		Surface:  bot.SurfaceTelegram,
		UserID:   strconv.FormatInt(cq.From.ID, 10),
		UserName: userName(cq.From),
		Action:   cq.Data,
	}
	if cq.Message != nil && cq.Message.Chat != nil {
		p.Where = strconv.FormatInt(cq.Message.Chat.ID, 10)
		p.Private = cq.Message.Chat.IsPrivate()
	}
	if cq.Data == "" { // game or unknown button: nothing to do
		if !answered {
			in.answer(ctx, cq.ID, "")
		}
		return
	}
	log.Debug().Str("user", p.UserID).Str("chat", p.Where).Str("action", in.scrub(p.Action)).Msg("telegram: button press")

	replies := make(chan bot.Reply, 1)
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		replies <- in.safePress(ctx, p)
	}()
	var r bot.Reply
	if answered {
		r = <-replies
	} else {
		t := time.NewTimer(in.opts.AnswerWithin)
		select {
		case r = <-replies:
			t.Stop()
			in.answer(ctx, cq.ID, in.toast(r, p.Private))
		case <-t.C:
			in.answer(ctx, cq.ID, "")
			r = <-replies
		}
	}
	in.deliverPress(ctx, cq, p, r)
}

// toast is the answerCallbackQuery text for r: Reply.Toast, or for an
// ephemeral reply in a group with only a title, that title (a group has no
// other way to show something to the presser alone).
func (in *inbound) toast(r bot.Reply, private bool) string {
	t := r.Toast
	if t == "" && r.Ephemeral && !private && titleOnly(r.Message) {
		t = r.Message.Title
	}
	return text.Truncate(strings.TrimSpace(in.scrub(bot.CleanText(t))), MaxToastLen)
}

func (in *inbound) deliverPress(ctx context.Context, cq *tgbotapi.CallbackQuery, p bot.Press, r bot.Reply) {
	log := in.log.With().Str("req", bot.RequestID(ctx)).Logger()
	if emptyMessage(r.Message) {
		return
	}
	if cq.Message == nil || cq.Message.Chat == nil { // inline message: answer privately
		if _, err := in.send(ctx, cq.From.ID, 0, r.Message); err != nil {
			log.Warn().Str("user", p.UserID).Str("err", err.Error()).Msg("telegram: reply not delivered")
		}
		return
	}
	chat, msgID := cq.Message.Chat.ID, cq.Message.MessageID
	if r.Ephemeral && !p.Private {
		if titleOnly(r.Message) {
			return // the toast carried it
		}
		if _, err := in.send(ctx, cq.From.ID, 0, r.Message); err != nil {
			log.Info().Str("user", p.UserID).Str("err", err.Error()).Msg("telegram: cannot answer a button press privately")
		}
		return
	}
	if r.Message.IsEdit() || in.isPreview(chat, msgID, cq.Message.ReplyMarkup) {
		err := in.edit(ctx, chat, msgID, r.Message)
		var ae *APIError
		switch {
		case err == nil:
			in.forgetPreview(chat, msgID)
			return
		case errors.As(err, &ae) && ae.NotModified():
			return
		case errors.As(err, &ae) && ae.EditGone():
			in.forgetPreview(chat, msgID)
			log.Debug().Int64("chat", chat).Int("message_id", msgID).Msg("telegram: the preview is gone, sending the outcome anew")
		default:
			log.Warn().Int64("chat", chat).Str("err", err.Error()).Msg("telegram: cannot edit the preview")
			return
		}
	}
	if _, err := in.send(ctx, chat, msgID, r.Message); err != nil {
		log.Warn().Int64("chat", chat).Str("err", err.Error()).Msg("telegram: reply not delivered")
	}
}

func (in *inbound) safeHandle(ctx context.Context, req bot.Request) (r bot.Reply) {
	defer func() {
		if v := recover(); v != nil {
			in.log.Error().Str("panic", in.scrub(fmt.Sprint(v))).Str("command", in.scrub(req.Text)).Msg("telegram: handler panicked")
			r = internalError()
		}
	}()
	return in.h.Handle(ctx, req)
}

func (in *inbound) safePress(ctx context.Context, p bot.Press) (r bot.Reply) {
	defer func() {
		if v := recover(); v != nil {
			in.log.Error().Str("panic", in.scrub(fmt.Sprint(v))).Msg("telegram: handler panicked on a button press")
			r = internalError()
			r.Ephemeral = true
		}
	}()
	return in.h.Press(ctx, p)
}

func internalError() bot.Reply {
	return bot.Reply{
		Message: bot.Message{Kind: bot.KindReply, Severity: bot.SevWarning, Title: "Internal error: the command failed; see the bot's log"},
		Toast:   "Internal error",
	}
}

func emptyMessage(m bot.Message) bool {
	return strings.TrimSpace(m.Title) == "" && len(m.Items) == 0 && len(m.Text) == 0 && len(m.Buttons) == 0 && len(m.Footer) == 0
}

func titleOnly(m bot.Message) bool {
	return len(m.Items) == 0 && len(m.Text) == 0 && len(m.Buttons) == 0
}

// ---------------------------------------------------------------------------
// Previews: a message with Confirm/Cancel buttons whose outcome edits it.

// previewPayloads tells a preview by its buttons' payloads (bot.Action):
// a Confirm and a Cancel of a pending action.
func previewPayloads(payloads []string) (confirm, cancel bool) {
	for _, p := range payloads {
		a, err := bot.ParseAction(p)
		confirm = confirm || err == nil && a.Verb == bot.VerbConfirm
		cancel = cancel || err == nil && a.Verb == bot.VerbCancel
	}
	return
}

func previewMessage(m bot.Message) bool {
	payloads := make([]string, len(m.Buttons))
	for i, b := range m.Buttons {
		payloads[i] = b.Action
	}
	c, x := previewPayloads(payloads)
	return c || x
}

func (in *inbound) rememberPreview(chat int64, msg int) {
	now := time.Now()
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.previews) >= 1024 {
		for k, exp := range in.previews {
			if now.After(exp) {
				delete(in.previews, k)
			}
		}
		for k := range in.previews { // still full: drop arbitrary ones
			if len(in.previews) < 1024 {
				break
			}
			delete(in.previews, k)
		}
	}
	in.previews[previewKey{chat, msg}] = now.Add(previewTTL)
}

func (in *inbound) forgetPreview(chat int64, msg int) {
	in.mu.Lock()
	delete(in.previews, previewKey{chat, msg})
	in.mu.Unlock()
}

// isPreview reports whether the pressed message is a preview: one this
// process sent with Confirm/Cancel buttons, or (after a restart) one whose
// keyboard, as Telegram reports it, carries their payloads.
func (in *inbound) isPreview(chat int64, msg int, kb *tgbotapi.InlineKeyboardMarkup) bool {
	in.mu.Lock()
	exp, ok := in.previews[previewKey{chat, msg}]
	in.mu.Unlock()
	if ok && time.Now().Before(exp) {
		return true
	}
	if kb == nil {
		return false
	}
	var payloads []string
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData != nil {
				payloads = append(payloads, *b.CallbackData)
			}
		}
	}
	c, x := previewPayloads(payloads)
	return c && x
}

// ---------------------------------------------------------------------------
// Delivery

// render renders msg and scrubs the result.
func (in *inbound) render(msg bot.Message) (string, *tgbotapi.InlineKeyboardMarkup) {
	text, kb := Render(msg, in.opts.Location, in.opts.Now())
	text = in.scrub(text)
	if UTF16Len(text) > MaxTextLen { // scrubbing can lengthen short secrets
		text = TruncateHTML(text, MaxTextLen)
	}
	return text, kb
}

// moreMarker is what Render writes when it had to leave items out; user
// text cannot produce it ("<" is always escaped).
const moreMarker = "<i>…and "

func (in *inbound) dropsItems(msg bot.Message) bool {
	text, _ := Render(msg, in.opts.Location, in.opts.Now())
	return strings.Contains(text, moreMarker)
}

// split cuts a reply whose items do not fit one message into up to
// maxReplyParts messages; the last carries the text, footer and buttons.
// Anything still too long is truncated by Render.
func (in *inbound) split(msg bot.Message) []bot.Message {
	if len(msg.Items) < 2 || !in.dropsItems(msg) {
		return []bot.Message{msg}
	}
	var parts []bot.Message
	remaining := msg.Items
	for i := 0; ; i++ {
		last := msg
		last.Items = remaining
		if i > 0 {
			last.Title = msg.Title + " (continued)"
		}
		if i == maxReplyParts-1 || !in.dropsItems(last) {
			return append(parts, last)
		}
		part := last
		part.Text, part.Footer, part.Buttons = nil, nil, nil
		// Largest k whose part keeps all its items (at least one).
		lo, hi := 1, len(remaining)
		for lo < hi {
			mid := (lo + hi + 1) / 2
			part.Items = remaining[:mid]
			if in.dropsItems(part) {
				hi = mid - 1
			} else {
				lo = mid
			}
		}
		part.Items = remaining[:lo]
		parts = append(parts, part)
		remaining = remaining[lo:]
	}
}

// send posts msg to chat (split when long), the first part replying to
// replyTo (0: none). It returns the id of the last message sent.
func (in *inbound) send(ctx context.Context, chat int64, replyTo int, msg bot.Message) (int, error) {
	if err := Validate(msg); err != nil {
		in.log.Warn().Str("err", in.scrub(err.Error())).Msg("telegram: buttons left out of a reply")
	}
	dest := strconv.FormatInt(chat, 10)
	id := 0
	for i, part := range in.split(msg) {
		text, kb := in.render(part)
		cfg := tgbotapi.MessageConfig{
			BaseChat:              tgbotapi.BaseChat{ChatID: chat, AllowSendingWithoutReply: true},
			Text:                  text,
			ParseMode:             tgbotapi.ModeHTML,
			DisableWebPagePreview: true,
		}
		if i == 0 {
			cfg.ReplyToMessageID = replyTo
		}
		if kb != nil {
			cfg.ReplyMarkup = *kb
		}
		res, err := in.call(ctx, "sendMessage", dest, cfg, 3)
		if err != nil {
			return id, err
		}
		var m tgbotapi.Message
		if err := json.Unmarshal(res, &m); err != nil || m.MessageID == 0 {
			return id, fmt.Errorf("telegram sendMessage to %s: unexpected result %.200q", dest, in.scrub(string(res)))
		}
		id = m.MessageID
		if kb != nil && previewMessage(part) {
			in.rememberPreview(chat, id)
		}
	}
	return id, nil
}

// edit replaces message msgID in chat with msg (keyboard included: none
// removes the buttons).
func (in *inbound) edit(ctx context.Context, chat int64, msgID int, msg bot.Message) error {
	text, kb := in.render(msg)
	cfg := tgbotapi.EditMessageTextConfig{
		BaseEdit:              tgbotapi.BaseEdit{ChatID: chat, MessageID: msgID, ReplyMarkup: kb},
		Text:                  text,
		ParseMode:             tgbotapi.ModeHTML,
		DisableWebPagePreview: true,
	}
	_, err := in.call(ctx, "editMessageText", strconv.FormatInt(chat, 10), cfg, 3)
	if err == nil && kb != nil && previewMessage(msg) {
		in.rememberPreview(chat, msgID)
	}
	return err
}

// answer sends answerCallbackQuery (one attempt: the query expires soon).
func (in *inbound) answer(ctx context.Context, id, text string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := in.call(ctx, "answerCallbackQuery", "", tgbotapi.NewCallback(id, text), 1); err != nil {
		in.log.Info().Str("err", err.Error()).Msg("telegram: answerCallbackQuery failed")
	}
}

// call performs one Bot API request bound to ctx, retrying temporary
// failures (honouring retry_after up to 30 s) up to attempts times. Errors
// are classified and scrubbed like the notifier's.
func (in *inbound) call(ctx context.Context, method, chat string, c tgbotapi.Chattable, attempts int) (json.RawMessage, error) {
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		resp, err := withContext(in.api, cctx).Request(c)
		cancel()
		if err == nil {
			return resp.Result, nil
		}
		err = classifyErr(ctx, in.scrub, method, chat, err)
		var re *bot.RetryError
		if !errors.As(err, &re) || attempt >= attempts || ctx.Err() != nil {
			return nil, err
		}
		wait := re.After
		if wait <= 0 {
			wait = time.Duration(attempt) * in.opts.MinBackoff
		}
		if wait > 30*time.Second {
			return nil, err
		}
		in.log.Debug().Str("method", method).Dur("wait", wait).Str("err", err.Error()).Msg("telegram: retrying")
		if sleepCtx(ctx, wait) != nil {
			return nil, err
		}
	}
}

// withContext returns a shallow copy of api whose requests are bound to ctx.
func withContext(api *tgbotapi.BotAPI, ctx context.Context) *tgbotapi.BotAPI {
	cp := *api
	cp.Client = ctxClient{ctx: ctx, c: api.Client}
	return &cp
}

// SetMyCommands publishes cmds (the handler's, see Commander) and
// /openclaw as the bot's command menu. RunPolling and SetWebhook call it;
// errors are scrubbed of the token.
func SetMyCommands(ctx context.Context, api *tgbotapi.BotAPI, cmds []bot.CommandInfo) error {
	return setMenu(ctx, api, newMenu(cmds))
}

func setMenu(ctx context.Context, api *tgbotapi.BotAPI, m menu) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := withContext(api, cctx).Request(tgbotapi.NewSetMyCommands(m.list...)); err != nil {
		return classifyErr(ctx, Scrub(api.Token, nil), "setMyCommands", "", err)
	}
	return nil
}
