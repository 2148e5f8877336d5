package slack

// Inbound side of the Slack surface, shared by HTTP mode (inbound_http.go)
// and Socket Mode (inbound_socket.go): turning slash commands and
// block_actions into bot.Request / bot.Press, running the bot.Handler off the
// ack path with bounded concurrency, and delivering its bot.Reply through the
// request's response_url (or the Web API when there is none).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	goslack "github.com/slack-go/slack"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/netutil"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// Command is the one slash command openclaw-bot answers.
const Command = "/openclaw"

// Defaults of the inbound options.
const (
	DefaultMaxConcurrent  = 8                // handler calls running at once
	DefaultMaxPending     = 256              // accepted requests not yet answered (running + waiting)
	DefaultMaxBody        = 64 << 10         // HTTP mode request body limit
	DefaultDrainTimeout   = 10 * time.Second // Close waits this long for in-flight work
	DefaultHandlerTimeout = 2 * time.Minute  // one handler call plus delivery of its reply
)

// User-facing texts of the inbound layer. Slack shows them ephemerally.
const (
	// SlowDownText answers a request that arrives while MaxPending requests
	// are still being worked on (CONTRACT: acked with 200 and "slow down").
	SlowDownText = "⏳ Slow down: openclaw-bot is busy with earlier requests. Try again in a few seconds."
	// ShuttingDownText answers a request that arrives during shutdown.
	ShuttingDownText = "openclaw-bot is restarting; try again in a moment."
	// UnknownCommandText answers a slash command other than /openclaw.
	UnknownCommandText = "openclaw-bot only answers " + Command + " (try `" + Command + " help`)."
	// InternalErrorText is sent when the handler panicked.
	InternalErrorText = "openclaw-bot hit an internal error while answering; the details are in its log."
)

// responseURLAttempts is how often a reply is offered to a response_url
// (network errors, 5xx and 429 are retried).
const responseURLAttempts = 3

// ResponseURLHosts are the hosts Slack issues response_urls on (commercial
// Slack and GovSlack, which runs on slack-gov.com). A response_url is
// accepted only with https on one of them (default port), or on the
// configured slack.api_url's scheme and host:port exactly (a proxy, the
// test fake). A response_url is a bearer capability chosen by whoever
// sent the request: without the pin a reply (a diagnosis) could be posted
// to any server the bot can reach.
var ResponseURLHosts = []string{"hooks.slack.com", "hooks.slack-gov.com"}

var (
	errBusy   = errors.New("busy")
	errClosed = errors.New("shutting down")
)

// inboundConfig is what both modes pass to newInbound.
type inboundConfig struct {
	handler        bot.Handler
	now            func() time.Time
	client         *http.Client    // for response_url; nil = 10 s timeout
	api            *goslack.Client // Web API fallback when there is no response_url; may be nil
	apiURL         string          // slack.api_url: its host is accepted for response_urls ("" = Slack's only)
	maxConcurrent  int
	maxPending     int
	drainTimeout   time.Duration
	handlerTimeout time.Duration
	log            *zerolog.Logger
	scrub          *redact.Scrubber
}

// inbound runs handler calls in goroutines: at most maxConcurrent at a
// time, at most maxPending accepted and unfinished. It owns no goroutine
// while idle, so an unused or closed inbound leaks nothing.
type inbound struct {
	h              bot.Handler
	now            func() time.Time
	client         *http.Client
	api            *goslack.Client
	apiURL         *url.URL // scheme and host of slack.api_url; nil = none
	maxPending     int
	drainTimeout   time.Duration
	handlerTimeout time.Duration
	log            zerolog.Logger
	scrub          *redact.Scrubber

	sem    chan struct{} // handler slots
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	pending int           // reserved jobs (limit: maxPending)
	active  int           // goroutines + reservations, for Wait
	idle    chan struct{} // closed while active == 0
	closed  bool
}

func newInbound(c inboundConfig) *inbound {
	in := &inbound{
		h:              c.handler,
		now:            c.now,
		client:         c.client,
		api:            c.api,
		maxPending:     c.maxPending,
		drainTimeout:   c.drainTimeout,
		handlerTimeout: c.handlerTimeout,
		log:            zerolog.Nop(),
		scrub:          c.scrub,
		idle:           make(chan struct{}),
	}
	close(in.idle)
	if in.now == nil {
		in.now = time.Now
	}
	if in.client == nil {
		in.client = &http.Client{Timeout: 10 * time.Second}
	}
	if u, err := url.Parse(c.apiURL); err == nil && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http") {
		in.apiURL = &url.URL{Scheme: u.Scheme, Host: u.Host}
	}
	if c.log != nil {
		in.log = *c.log
	}
	if in.scrub == nil {
		in.scrub = redact.NewScrubber()
	}
	n := c.maxConcurrent
	if n <= 0 {
		n = DefaultMaxConcurrent
	}
	if in.maxPending <= 0 {
		in.maxPending = DefaultMaxPending
	}
	if in.maxPending < n {
		in.maxPending = n
	}
	if in.drainTimeout <= 0 {
		in.drainTimeout = DefaultDrainTimeout
	}
	if in.handlerTimeout <= 0 {
		in.handlerTimeout = DefaultHandlerTimeout
	}
	in.sem = make(chan struct{}, n)
	in.ctx, in.cancel = context.WithCancel(context.Background())
	return in
}

// ticket is a reserved job slot: the caller acks Slack, then calls start
// (or release when it decides not to run anything after all).
type ticket struct {
	in   *inbound
	once sync.Once
}

// reserve takes a job slot without blocking. errBusy: MaxPending requests
// are unfinished; errClosed: shutting down.
func (in *inbound) reserve() (*ticket, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	switch {
	case in.closed:
		return nil, errClosed
	case in.pending >= in.maxPending:
		return nil, errBusy
	}
	in.pending++
	in.addActiveLocked()
	return &ticket{in: in}, nil
}

// start runs fn in a goroutine once a handler slot is free. fn gets a
// context that ends after the handler timeout or when shutdown gives up
// waiting. A panic in fn is logged and reported to the user via onPanic.
func (t *ticket) start(name string, fn func(ctx context.Context), onPanic func(ctx context.Context)) {
	in := t.in
	go func() {
		defer t.release()
		select {
		case in.sem <- struct{}{}:
		case <-in.ctx.Done():
			in.log.Warn().Str("request", name).Msg("slack: request dropped at shutdown before it ran")
			return
		}
		defer func() { <-in.sem }()
		ctx, cancel := context.WithTimeout(in.ctx, in.handlerTimeout)
		defer cancel()
		func() {
			defer func() {
				if r := recover(); r != nil {
					in.log.Error().Str("request", name).Str("panic", in.scrub.String(fmt.Sprint(r))).
						Str("stack", in.scrub.String(string(debug.Stack()))).Msg("slack: handler panicked")
					if onPanic != nil {
						onPanic(ctx)
					}
				}
			}()
			fn(ctx)
		}()
	}()
}

// release gives the slot back; safe to call more than once.
func (t *ticket) release() {
	t.once.Do(func() {
		in := t.in
		in.mu.Lock()
		in.pending--
		in.doneActiveLocked()
		in.mu.Unlock()
	})
}

// goTracked runs a short side task (a "slow down" notice) that Wait and
// shutdown also wait for, but that does not count against MaxPending. It
// is not started while closed.
func (in *inbound) goTracked(fn func(ctx context.Context)) {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return
	}
	in.addActiveLocked()
	in.mu.Unlock()
	go func() {
		defer func() {
			if r := recover(); r != nil {
				in.log.Error().Str("panic", in.scrub.String(fmt.Sprint(r))).Msg("slack: notice panicked")
			}
			in.mu.Lock()
			in.doneActiveLocked()
			in.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(in.ctx, 15*time.Second)
		defer cancel()
		fn(ctx)
	}()
}

func (in *inbound) addActiveLocked() {
	if in.active == 0 {
		in.idle = make(chan struct{})
	}
	in.active++
}

func (in *inbound) doneActiveLocked() {
	in.active--
	if in.active == 0 {
		close(in.idle)
	}
}

// wait blocks until no work is in flight or ctx ends.
func (in *inbound) wait(ctx context.Context) error {
	for {
		in.mu.Lock()
		if in.active == 0 {
			in.mu.Unlock()
			return nil
		}
		ch := in.idle
		in.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// shutdown refuses new work, waits for in-flight work until ctx ends, then
// cancels what is still running and gives it one more second to return.
func (in *inbound) shutdown(ctx context.Context) error {
	in.mu.Lock()
	in.closed = true
	in.mu.Unlock()
	err := in.wait(ctx)
	in.cancel()
	if err != nil {
		grace, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if in.wait(grace) != nil {
			in.mu.Lock()
			n := in.active
			in.mu.Unlock()
			in.log.Error().Int("still_running", n).Msg("slack: shutdown: requests ignored cancellation")
		} else {
			in.log.Warn().Msg("slack: shutdown: in-flight requests were cancelled")
		}
		return fmt.Errorf("slack: shutdown before in-flight requests finished: %w", err)
	}
	return nil
}

// shutdownDrain is shutdown with the configured drain timeout.
func (in *inbound) shutdownDrain() error {
	ctx, cancel := context.WithTimeout(context.Background(), in.drainTimeout)
	defer cancel()
	return in.shutdown(ctx)
}

// target says where the answer to one request goes.
type target struct {
	responseURL string // from the request; may be empty
	channel     string // for the Web API fallback
	user        string
	press       bool // a button press: replace_original false
}

// runRequest calls the handler for req and delivers its reply.
func (in *inbound) runRequest(ctx context.Context, req bot.Request, to target) {
	ctx = bot.WithRequestID(ctx, bot.NewRequestID()) // the router and deliver log it
	start := time.Now()
	reply := in.h.Handle(ctx, req)
	in.log.Debug().Str("req", bot.RequestID(ctx)).Str("user", req.UserID).Str("channel", req.Where).Str("command", firstWord(req.Text)).
		Dur("took", time.Since(start)).Msg("slack: command handled")
	in.deliver(ctx, to, reply)
}

// runPress calls the handler for p and delivers its reply.
func (in *inbound) runPress(ctx context.Context, p bot.Press, to target) {
	ctx = bot.WithRequestID(ctx, bot.NewRequestID())
	start := time.Now()
	reply := in.h.Press(ctx, p)
	in.log.Debug().Str("req", bot.RequestID(ctx)).Str("user", p.UserID).Str("channel", p.Where).Dur("took", time.Since(start)).
		Msg("slack: button press handled")
	in.deliver(ctx, to, reply)
}

// notice sends a short ephemeral text (slow down, restarting, internal error).
func (in *inbound) notice(ctx context.Context, to target, text string) {
	in.deliver(ctx, to, bot.Reply{Ephemeral: true, Toast: text})
}

// responsePayload is what a response_url accepts.
type responsePayload struct {
	ResponseType    string          `json:"response_type"`
	Text            string          `json:"text"`
	Blocks          []goslack.Block `json:"blocks,omitempty"`
	ReplaceOriginal *bool           `json:"replace_original,omitempty"`
}

// deliver sends reply to the response_url, falling back to the Web API
// (chat.postEphemeral / chat.postMessage) when there is no usable
// response_url or it failed. A reply without a message but with a Toast is
// sent as an ephemeral text; one with neither is not sent at all.
func (in *inbound) deliver(ctx context.Context, to target, reply bot.Reply) {
	log := in.log
	if id := bot.RequestID(ctx); id != "" {
		log = log.With().Str("req", id).Logger()
	}
	var text string
	var blocks []goslack.Block
	switch {
	case !emptyMessage(reply.Message):
		text, blocks = RenderAt(reply.Message, in.now())
	case strings.TrimSpace(reply.Toast) != "":
		// Slack has no toast: show it to the requester only.
		text = truncate(Escape(reply.Toast), MaxFallbackText)
		reply.Ephemeral = true
	default:
		return
	}
	p := responsePayload{ResponseType: "in_channel", Text: text, Blocks: blocks}
	if reply.Ephemeral {
		p.ResponseType = "ephemeral"
	}
	if to.press {
		f := false
		p.ReplaceOriginal = &f
	}

	if to.responseURL != "" {
		u, err := checkResponseURL(to.responseURL, in.apiURL)
		if err != nil {
			// Only the host: the rest of a response_url is the capability.
			log.Warn().Str("host", responseURLHost(to.responseURL)).Str("reason", err.Error()).
				Bool("web_api_fallback", in.api != nil && to.channel != "").Msg("slack: refusing the request's response_url")
		} else {
			err = in.postResponseURL(ctx, u, p)
			if err == nil {
				log.Debug().Str("host", u.Host).Str("response_type", p.ResponseType).Msg("slack: reply delivered")
				return
			}
			log.Warn().Str("host", u.Host).Err(err).Msg("slack: reply to response_url failed")
		}
	}
	if in.api == nil || to.channel == "" {
		if to.responseURL == "" {
			log.Warn().Str("channel", to.channel).Msg("slack: reply dropped: the request had no response_url")
		}
		return
	}
	opts := []goslack.MsgOption{goslack.MsgOptionText(text, false)}
	if len(blocks) > 0 {
		opts = append(opts, goslack.MsgOptionBlocks(blocks...))
	}
	var err error
	method := "chat.postMessage"
	if reply.Ephemeral && to.user != "" {
		method = "chat.postEphemeral"
		_, err = in.api.PostEphemeralContext(ctx, to.channel, to.user, opts...)
	} else {
		_, _, err = in.api.PostMessageContext(ctx, to.channel, opts...)
	}
	if err != nil {
		log.Warn().Str("method", method).Str("channel", to.channel).Str("error", in.scrub.String(err.Error())).
			Msg("slack: reply via Web API failed")
		return
	}
	log.Debug().Str("method", method).Str("channel", to.channel).Msg("slack: reply delivered via Web API")
}

// postResponseURL posts p, retrying network errors, 5xx and 429. Errors
// never contain the URL (a response_url is a bearer capability).
func (in *inbound) postResponseURL(ctx context.Context, u *url.URL, p responsePayload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding reply: %w", err)
	}
	var last error
	for attempt := 1; attempt <= responseURLAttempts; attempt++ {
		retry, wait, err := in.postOnce(ctx, u.String(), body)
		if err == nil {
			return nil
		}
		last = err
		if !retry || attempt == responseURLAttempts {
			break
		}
		if wait <= 0 {
			wait = time.Duration(attempt) * 300 * time.Millisecond
		}
		if wait > 5*time.Second {
			wait = 5 * time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (then %v)", last, ctx.Err())
		}
	}
	return last
}

func (in *inbound) postOnce(ctx context.Context, u string, body []byte) (retry bool, wait time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return false, 0, errors.New("bad response_url")
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := in.client.Do(req)
	if err != nil {
		// *url.Error carries the URL; keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return ctx.Err() == nil, 0, fmt.Errorf("network: %s", in.scrub.String(err.Error()))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, 0, nil
	}
	err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, in.scrub.String(strings.TrimSpace(string(msg))))
	if resp.StatusCode == http.StatusTooManyRequests {
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return true, time.Duration(secs) * time.Second, err
	}
	return resp.StatusCode >= 500, 0, err
}

// checkResponseURL accepts a response_url only on Slack's own hosts
// (https, ResponseURLHosts, default port) or on api's scheme and host:port
// exactly (slack.api_url; plain http only when that host is loopback). A
// reply must not go to an arbitrary server, in clear text over the
// network, nor to another internal service. Errors name the host only.
func checkResponseURL(s string, api *url.URL) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("not an absolute URL")
	}
	if u.User != nil {
		return nil, errors.New("response_url with credentials")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, errors.New("response_url scheme " + strconv.Quote(truncate(u.Scheme, 20)) + " is not https")
	}
	if api != nil && u.Scheme == api.Scheme && sameHostPort(u, api) {
		if u.Scheme == "https" || netutil.IsLoopback(u.Hostname()) {
			return u, nil
		}
		return nil, errors.New("http:// response_url to a non-loopback host")
	}
	if u.Scheme == "https" && (u.Port() == "" || u.Port() == "443") {
		host := strings.ToLower(u.Hostname())
		for _, h := range ResponseURLHosts {
			if host == h {
				return u, nil
			}
		}
	}
	allowed := strings.Join(ResponseURLHosts, ", ")
	if api != nil {
		allowed += " or slack.api_url's " + api.Host
	}
	return nil, errors.New("response_url not on a Slack host (" + allowed + ")")
}

// sameHostPort compares host and effective port (the scheme's default
// when none is written), the host case-insensitively.
func sameHostPort(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if u.Scheme == "http" {
			return "80"
		}
		return "443"
	}
	return strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// responseURLHost is the host[:port] of a response_url for logs (never its
// path or query: they are the capability).
func responseURLHost(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "(none)"
	}
	return redact.String(truncate(u.Host, 100))
}

func emptyMessage(m bot.Message) bool {
	return m.Title == "" && len(m.Items) == 0 && len(m.Text) == 0 && len(m.Buttons) == 0 && len(m.Footer) == 0
}

// slashRequest maps a slash command to a bot.Request.
func slashRequest(cmd goslack.SlashCommand) bot.Request {
	return bot.Request{
		Surface:  bot.SurfaceSlack,
		UserID:   cmd.UserID,
		UserName: cmd.UserName,
		Where:    cmd.ChannelID,
		Private:  isDM(cmd.ChannelID),
		Text:     strings.TrimSpace(cmd.Text),
	}
}

// slashFromForm reads the fields of an HTTP slash command.
func slashFromForm(f url.Values) goslack.SlashCommand {
	return goslack.SlashCommand{
		TeamID:      f.Get("team_id"),
		ChannelID:   f.Get("channel_id"),
		ChannelName: f.Get("channel_name"),
		UserID:      f.Get("user_id"),
		UserName:    f.Get("user_name"),
		Command:     f.Get("command"),
		Text:        f.Get("text"),
		ResponseURL: f.Get("response_url"),
		TriggerID:   f.Get("trigger_id"),
		APIAppID:    f.Get("api_app_id"),
	}
}

// ParseInteraction decodes the "payload" form field of an HTTP
// interaction request.
func ParseInteraction(payload string) (goslack.InteractionCallback, error) {
	var ic goslack.InteractionCallback
	if strings.TrimSpace(payload) == "" {
		return ic, errors.New("empty payload")
	}
	if err := json.Unmarshal([]byte(payload), &ic); err != nil {
		return ic, fmt.Errorf("decoding interaction payload: %w", err)
	}
	return ic, nil
}

// PressFromInteraction maps a block_actions interaction on one of our
// buttons (block_id ActionsBlockID) to a bot.Press, and returns the
// interaction's response_url. ok is false for other interaction types,
// foreign blocks, or a payload without user or action.
func PressFromInteraction(ic goslack.InteractionCallback) (p bot.Press, responseURL string, ok bool) {
	if ic.Type != goslack.InteractionTypeBlockActions || ic.User.ID == "" {
		return bot.Press{}, "", false
	}
	var act *goslack.BlockAction
	for _, a := range ic.ActionCallback.BlockActions {
		if a != nil && (a.BlockID == ActionsBlockID || a.BlockID == "") {
			act = a
			break
		}
	}
	if act == nil {
		return bot.Press{}, "", false
	}
	action := act.Value
	if action == "" {
		action = act.ActionID
	}
	if action == "" {
		return bot.Press{}, "", false
	}
	where := ic.Channel.ID
	if where == "" {
		where = ic.Container.ChannelID
	}
	name := ic.User.Username
	if name == "" {
		name = ic.User.Name
	}
	return bot.Press{
		Surface:  bot.SurfaceSlack,
		UserID:   ic.User.ID,
		UserName: name,
		Where:    where,
		Private:  isDM(where),
		Action:   action,
	}, ic.ResponseURL, true
}

// isDM: Slack direct-message channel ids start with D.
func isDM(channel string) bool { return strings.HasPrefix(channel, "D") }

func firstWord(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t\n"); i >= 0 {
		s = s[:i]
	}
	return redact.String(truncate(s, 40))
}
