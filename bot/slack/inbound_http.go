package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	goslack "github.com/slack-go/slack"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// Request paths of Slack HTTP mode (CONTRACT: on http.listen).
const (
	CommandsPath     = "/slack/commands"
	InteractionsPath = "/slack/interactions"
)

// MaxClockSkew is how far a request's X-Slack-Request-Timestamp may be
// from the bot's clock (CONTRACT: more than 5 minutes off is refused).
const MaxClockSkew = 5 * time.Minute

// HTTPOptions configure NewHTTPHandler. Only SigningSecret is required.
type HTTPOptions struct {
	// SigningSecret is the app's signing secret (slack.signing_secret).
	// Empty: every request is refused.
	SigningSecret redact.Secret
	// Now is the clock for timestamp checks and rendering; nil = time.Now.
	Now func() time.Time
	// Client posts replies to response_url; nil = a client with a 10 s
	// timeout.
	Client *http.Client
	// API, when set, delivers a reply through chat.postEphemeral /
	// chat.postMessage when the request has no usable response_url.
	API *goslack.Client
	// APIURL is slack.api_url: besides Slack's own hosts
	// (ResponseURLHosts), a response_url on exactly its scheme and
	// host:port is accepted (a proxy; the test fake). "" = Slack's only.
	APIURL string
	// MaxConcurrent handler calls at once; 0 = DefaultMaxConcurrent.
	MaxConcurrent int
	// MaxPending accepted but unfinished requests; more are answered with
	// SlowDownText. 0 = DefaultMaxPending.
	MaxPending int
	// MaxBody is the request body limit (413 above it); 0 = DefaultMaxBody.
	MaxBody int64
	// AckText, when set, is the ephemeral text of the immediate answer to
	// a slash command ("⏳ working…"); "" = an empty 200.
	AckText string
	// DrainTimeout is how long Close waits for in-flight requests;
	// 0 = DefaultDrainTimeout.
	DrainTimeout time.Duration
	// HandlerTimeout bounds one handler call plus the delivery of its
	// reply; 0 = DefaultHandlerTimeout.
	HandlerTimeout time.Duration
	// Logger receives refusals (Warn), delivery failures (Warn) and
	// handled requests (Debug); nil = no logging. No line contains the
	// signing secret, a signature or a response_url.
	Logger *zerolog.Logger
	// Scrubber removes known secrets from logged errors; nil = credential
	// shapes only. The signing secret is always added.
	Scrubber *redact.Scrubber
}

// HTTPHandler serves Slack HTTP mode: POST CommandsPath (slash commands)
// and POST InteractionsPath (block_actions). It verifies Slack's v0
// request signature, acks at once and runs the bot.Handler in the
// background, delivering the reply through the request's response_url.
// Mount it on the bot's listener for both paths (or "/slack/").
type HTTPHandler struct {
	in      *inbound
	secret  []byte
	now     func() time.Time
	maxBody int64
	ackText string
	replay  *replayCache
	log     zerolog.Logger
}

var _ http.Handler = (*HTTPHandler)(nil)

// NewHTTPHandler returns the Slack HTTP mode handler. Call Close (or
// Shutdown) when the server stops, to drain in-flight requests.
func NewHTTPHandler(h bot.Handler, opts HTTPOptions) *HTTPHandler {
	scrub := opts.Scrubber
	if scrub == nil {
		scrub = redact.NewScrubber()
	}
	scrub.Add(opts.SigningSecret.Reveal())
	s := &HTTPHandler{
		secret:  []byte(opts.SigningSecret.Reveal()),
		now:     opts.Now,
		maxBody: opts.MaxBody,
		ackText: opts.AckText,
		replay:  newReplayCache(),
		log:     zerolog.Nop(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	if opts.Logger != nil {
		s.log = *opts.Logger
	}
	s.in = newInbound(inboundConfig{
		handler: h, now: s.now, client: opts.Client, api: opts.API, apiURL: opts.APIURL,
		maxConcurrent: opts.MaxConcurrent, maxPending: opts.MaxPending,
		drainTimeout: opts.DrainTimeout, handlerTimeout: opts.HandlerTimeout,
		log: &s.log, scrub: scrub,
	})
	if len(s.secret) == 0 {
		s.log.Error().Msg("slack: slack.signing_secret is empty: every Slack HTTP request will be refused")
	}
	return s
}

// Wait blocks until no request is being worked on (handler running or
// reply being delivered).
func (s *HTTPHandler) Wait() { _ = s.in.wait(context.Background()) }

// Shutdown stops taking work (later requests are acked with
// ShuttingDownText), waits for in-flight requests until ctx ends, then
// cancels those still running. It returns an error when it had to cancel.
func (s *HTTPHandler) Shutdown(ctx context.Context) error { return s.in.shutdown(ctx) }

// Close is Shutdown with HTTPOptions.DrainTimeout.
func (s *HTTPHandler) Close() error { return s.in.shutdownDrain() }

// ServeHTTP implements http.Handler.
func (s *HTTPHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != CommandsPath && r.URL.Path != InteractionsPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, status, reason := s.verify(w, r)
	if status != 0 {
		s.log.Warn().Str("path", r.URL.Path).Str("remote", r.RemoteAddr).Int("status", status).Str("reason", reason).
			Msg("slack: request refused")
		msg := "unauthorized"
		if status == http.StatusRequestEntityTooLarge {
			msg = "request too large"
		}
		http.Error(w, msg, status)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.log.Warn().Str("path", r.URL.Path).Msg("slack: signed request with an undecodable form")
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if r.URL.Path == CommandsPath {
		s.command(w, form)
	} else {
		s.interaction(w, form)
	}
}

// verify reads the body and checks Slack's v0 signature. A non-zero status
// refuses the request; reason is for the log only.
func (s *HTTPHandler) verify(w http.ResponseWriter, r *http.Request) (body []byte, status int, reason string) {
	tsHeader := r.Header.Get("X-Slack-Request-Timestamp")
	sigHeader := r.Header.Get("X-Slack-Signature")
	if tsHeader == "" || sigHeader == "" {
		return nil, http.StatusUnauthorized, "missing signature headers"
	}
	if r.ContentLength > s.maxBody {
		return nil, http.StatusRequestEntityTooLarge, "body over " + strconv.FormatInt(s.maxBody, 10) + " bytes"
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, "body over " + strconv.FormatInt(s.maxBody, 10) + " bytes"
		}
		return nil, http.StatusBadRequest, "reading body failed"
	}
	if len(s.secret) == 0 {
		return nil, http.StatusUnauthorized, "no signing secret configured"
	}
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil || ts <= 0 {
		return nil, http.StatusUnauthorized, "malformed timestamp"
	}
	now := s.now()
	sent := time.Unix(ts, 0)
	if skew := now.Sub(sent); skew > MaxClockSkew || skew < -MaxClockSkew {
		return nil, http.StatusUnauthorized, "timestamp " + skew.Round(time.Second).String() + " off"
	}
	hexSig, ok := strings.CutPrefix(sigHeader, "v0=")
	if !ok {
		return nil, http.StatusUnauthorized, "unknown signature version"
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return nil, http.StatusUnauthorized, "malformed signature"
	}
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte("v0:"))
	mac.Write([]byte(tsHeader))
	mac.Write([]byte(":"))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return nil, http.StatusUnauthorized, "signature mismatch"
	}
	// Only a verified pair enters the cache; it can be forgotten once its
	// timestamp is too old to pass the check above.
	if !s.replay.add(tsHeader+":"+hex.EncodeToString(got), now, sent.Add(MaxClockSkew+time.Second)) {
		return nil, http.StatusUnauthorized, "replayed (timestamp, signature) pair"
	}
	return body, 0, ""
}

func (s *HTTPHandler) command(w http.ResponseWriter, form url.Values) {
	cmd := slashFromForm(form)
	if cmd.Command != Command {
		s.log.Info().Str("command", redact.String(truncate(cmd.Command, 40))).Str("user", cmd.UserID).
			Msg("slack: unknown slash command")
		writeEphemeral(w, UnknownCommandText)
		return
	}
	if cmd.UserID == "" {
		s.log.Warn().Msg("slack: slash command without user_id ignored")
		w.WriteHeader(http.StatusOK)
		return
	}
	req := slashRequest(cmd)
	to := target{responseURL: cmd.ResponseURL, channel: cmd.ChannelID, user: cmd.UserID}
	t, err := s.in.reserve()
	switch {
	case errors.Is(err, errBusy):
		s.log.Warn().Str("user", cmd.UserID).Msg("slack: busy, slash command refused with slow down")
		writeEphemeral(w, SlowDownText)
		return
	case err != nil:
		writeEphemeral(w, ShuttingDownText)
		return
	}
	if s.ackText != "" {
		writeEphemeral(w, s.ackText)
	} else {
		w.WriteHeader(http.StatusOK)
	}
	flush(w)
	t.start("command", func(ctx context.Context) { s.in.runRequest(ctx, req, to) },
		func(ctx context.Context) { s.in.notice(ctx, to, InternalErrorText) })
}

func (s *HTTPHandler) interaction(w http.ResponseWriter, form url.Values) {
	ic, err := ParseInteraction(form.Get("payload"))
	if err != nil {
		s.log.Warn().Str("error", err.Error()).Msg("slack: undecodable interaction payload")
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	p, responseURL, ok := PressFromInteraction(ic)
	if !ok {
		s.log.Debug().Str("type", string(ic.Type)).Msg("slack: interaction ignored")
		w.WriteHeader(http.StatusOK)
		return
	}
	to := target{responseURL: responseURL, channel: p.Where, user: p.UserID, press: true}
	t, err := s.in.reserve()
	// Slack ignores the body of an interaction response: answer the
	// outcome through the response_url.
	w.WriteHeader(http.StatusOK)
	flush(w)
	switch {
	case errors.Is(err, errBusy):
		s.log.Warn().Str("user", p.UserID).Msg("slack: busy, button press refused with slow down")
		s.in.goTracked(func(ctx context.Context) { s.in.notice(ctx, to, SlowDownText) })
		return
	case err != nil:
		return
	}
	t.start("press", func(ctx context.Context) { s.in.runPress(ctx, p, to) },
		func(ctx context.Context) { s.in.notice(ctx, to, InternalErrorText) })
}

// writeEphemeral answers 200 with an ephemeral message.
func writeEphemeral(w http.ResponseWriter, text string) {
	b, _ := json.Marshal(responsePayload{ResponseType: "ephemeral", Text: Escape(text)})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// replayCache remembers verified (timestamp, signature) pairs until they
// would be refused as stale anyway. Only requests with a valid signature
// are added, so its size is bounded by real Slack traffic in 10 minutes.
type replayCache struct {
	mu        sync.Mutex
	seen      map[string]time.Time // key → expiry
	lastSweep time.Time
}

func newReplayCache() *replayCache { return &replayCache{seen: map[string]time.Time{}} }

// add records key and reports whether it was new (or its record expired).
func (c *replayCache) add(key string, now, expires time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.seen[key]; ok && now.Before(exp) {
		return false
	}
	if now.Sub(c.lastSweep) > 30*time.Second || now.Before(c.lastSweep) {
		for k, exp := range c.seen {
			if !now.Before(exp) {
				delete(c.seen, k)
			}
		}
		c.lastSweep = now
	}
	c.seen[key] = expires
	return true
}

func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
