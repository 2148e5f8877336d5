package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	goslack "github.com/slack-go/slack"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// MetadataEventType is the message metadata event_type of every message the
// bot posts; event_payload is {"ref": msg.Ref}. Find looks for it.
const MetadataEventType = "openclaw_bot_message"

// DefaultMinInterval is the default per-channel pacing: Slack allows about
// one chat.postMessage per second per channel.
const DefaultMinInterval = time.Second

// findMaxPages bounds how much history Find reads (×200 messages).
const findMaxPages = 5

// NewClient returns a Slack Web API client for token with the given base
// URL ("" = https://slack.com/api/; a trailing slash is added when missing)
// and HTTP client (nil = one with a 10 s timeout; the library's default has
// none). slack-go's own retries stay off: the outbox retries.
func NewClient(token redact.Secret, apiURL string, hc *http.Client) *goslack.Client {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	opts := []goslack.Option{goslack.OptionHTTPClient(hc)}
	if apiURL != "" {
		if !strings.HasSuffix(apiURL, "/") {
			apiURL += "/"
		}
		opts = append(opts, goslack.OptionAPIURL(apiURL))
	}
	return goslack.New(token.Reveal(), opts...)
}

// Options configure a Notifier. The zero value is usable.
type Options struct {
	// Now is the clock for rendering ("in 4m") and pacing; nil = time.Now.
	Now func() time.Time
	// MinInterval is the least time between the end of one call and the
	// start of the next in the same channel; 0 = DefaultMinInterval,
	// negative = no pacing.
	MinInterval time.Duration
	// Logger receives one line per delivery failure (Warn) and success
	// (Debug), with scrubbed errors; nil = no logging.
	Logger *zerolog.Logger
	// Scrubber removes known secret values (register the bot token) from
	// errors and log lines; nil = credential-shaped strings only (which
	// covers xoxb-/xoxp-/xapp- tokens).
	Scrubber *redact.Scrubber
}

// Notifier delivers bot messages to Slack channels. It implements
// bot.Notifier and bot.Finder and is safe for concurrent use.
type Notifier struct {
	api   *goslack.Client
	now   func() time.Time
	log   zerolog.Logger
	scrub *redact.Scrubber
	pace  *pacer
}

var (
	_ bot.Notifier = (*Notifier)(nil)
	_ bot.Finder   = (*Notifier)(nil)
)

// NewNotifier returns a Notifier that uses client (see NewClient).
func NewNotifier(client *goslack.Client, opts Options) *Notifier {
	n := &Notifier{api: client, now: opts.Now, log: zerolog.Nop(), scrub: opts.Scrubber}
	if n.now == nil {
		n.now = time.Now
	}
	if opts.Logger != nil {
		n.log = *opts.Logger
	}
	if n.scrub == nil {
		n.scrub = redact.NewScrubber()
	}
	iv := opts.MinInterval
	if iv == 0 {
		iv = DefaultMinInterval
	}
	n.pace = newPacer(iv, n.now)
	return n
}

// Name is "slack".
func (n *Notifier) Name() string { return "slack" }

// Send posts msg to the channel dest (a channel ID), or edits prev in place
// when prev is not nil. New messages carry metadata
// {"event_type":"openclaw_bot_message","event_payload":{"ref":msg.Ref}}.
// If Slack says the message to edit is gone or cannot be edited, msg is
// posted as a new message instead (the returned Sent says where).
//
// Errors: *bot.RetryError for 429 (After = Retry-After), 5xx, network
// failures and a cancelled ctx; otherwise a permanent *APIError whose text
// says what to fix. No error contains the bot token.
func (n *Notifier) Send(ctx context.Context, dest string, msg bot.Message, prev *bot.Sent) (bot.Sent, error) {
	text, blocks := RenderAt(msg, n.now())
	opts := []goslack.MsgOption{goslack.MsgOptionText(text, false), goslack.MsgOptionBlocks(blocks...)}
	if msg.Ref != "" {
		opts = append(opts, goslack.MsgOptionMetadata(goslack.SlackMetadata{
			EventType:    MetadataEventType,
			EventPayload: map[string]any{"ref": msg.Ref},
		}))
	}

	if prev != nil {
		ch := prev.Channel
		if ch == "" {
			ch = dest
		}
		sent, err := n.update(ctx, ch, prev.ID, msg.Ref, opts)
		var ae *APIError
		if err == nil || !errors.As(err, &ae) || !editImpossible(ae.Code) {
			return sent, err
		}
		n.log.Info().Str("channel", ch).Str("ts", prev.ID).Str("ref", msg.Ref).Str("reason", ae.Code).
			Msg("slack: cannot edit message, posting a new one")
		dest = ch
	}
	return n.post(ctx, dest, msg.Ref, opts)
}

func (n *Notifier) post(ctx context.Context, ch, ref string, opts []goslack.MsgOption) (bot.Sent, error) {
	const method = "chat.postMessage"
	if ch == "" {
		return bot.Sent{}, &APIError{Method: method, Code: "no_channel",
			Hint: "no Slack channel to post to: set slack.alert_channel to a channel ID (C…)"}
	}
	var rch, ts string
	err := n.call(ctx, method, ch, func() (err error) {
		rch, ts, err = n.api.PostMessageContext(ctx, ch, opts...)
		return err
	})
	if err != nil {
		n.log.Warn().Str("method", method).Str("channel", ch).Str("ref", ref).Err(err).Msg("slack: send failed")
		return bot.Sent{}, err
	}
	if rch == "" {
		rch = ch
	}
	n.log.Debug().Str("channel", rch).Str("ts", ts).Str("ref", ref).Msg("slack: message sent")
	return bot.Sent{Channel: rch, ID: ts}, nil
}

func (n *Notifier) update(ctx context.Context, ch, ts, ref string, opts []goslack.MsgOption) (bot.Sent, error) {
	const method = "chat.update"
	var rch, rts string
	err := n.call(ctx, method, ch, func() (err error) {
		rch, rts, _, err = n.api.UpdateMessageContext(ctx, ch, ts, opts...)
		return err
	})
	if err != nil {
		n.log.Warn().Str("method", method).Str("channel", ch).Str("ts", ts).Str("ref", ref).Err(err).Msg("slack: edit failed")
		return bot.Sent{}, err
	}
	if rch == "" {
		rch = ch
	}
	if rts == "" {
		rts = ts
	}
	n.log.Debug().Str("channel", rch).Str("ts", rts).Str("ref", ref).Msg("slack: message edited")
	return bot.Sent{Channel: rch, ID: rts}, nil
}

// Find looks in channel dest for a message the bot posted since since whose
// metadata ref equals ref, and returns the newest such message, or nil when
// there is none. It needs the channels:history (groups:history for private
// channels) scope.
func (n *Notifier) Find(ctx context.Context, dest, ref string, since time.Time) (*bot.Sent, error) {
	const method = "conversations.history"
	if dest == "" || ref == "" {
		return nil, nil
	}
	params := &goslack.GetConversationHistoryParameters{ChannelID: dest, Limit: 200, IncludeAllMetadata: true, Inclusive: true}
	if !since.IsZero() {
		params.Oldest = fmt.Sprintf("%d.%06d", since.Unix(), since.Nanosecond()/1000)
	}
	for page := 0; page < findMaxPages; page++ {
		var resp *goslack.GetConversationHistoryResponse
		err := n.call(ctx, method, dest, func() (err error) {
			resp, err = n.api.GetConversationHistoryContext(ctx, params)
			return err
		})
		if err != nil {
			n.log.Warn().Str("method", method).Str("channel", dest).Str("ref", ref).Err(err).Msg("slack: history lookup failed")
			return nil, err
		}
		for _, m := range resp.Messages { // newest first
			if m.Metadata.EventType == MetadataEventType && payloadRef(m.Metadata.EventPayload) == ref {
				return &bot.Sent{Channel: dest, ID: m.Timestamp}, nil
			}
		}
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" {
			break
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
	return nil, nil
}

func payloadRef(p map[string]any) string {
	s, _ := p["ref"].(string)
	return s
}

// call runs fn paced for channel ch and classifies its error.
func (n *Notifier) call(ctx context.Context, method, ch string, fn func() error) error {
	release, err := n.pace.acquire(ctx, ch)
	if err != nil {
		var re *bot.RetryError
		if errors.As(err, &re) {
			re.Err = &APIError{Method: method, Channel: ch, Code: "ratelimited",
				Hint: "Slack asked the bot to slow down in this channel"}
			return re
		}
		return &bot.RetryError{Err: &APIError{Method: method, Channel: ch, Code: "canceled", msg: err.Error(), cause: err}}
	}
	err = fn()
	var rl *goslack.RateLimitedError
	if errors.As(err, &rl) {
		release(rl.RetryAfter)
	} else {
		release(0)
	}
	if err == nil {
		return nil
	}
	return n.classify(method, ch, err)
}

// APIError is a failed Slack Web API call. Permanent failures are returned
// as *APIError; temporary ones as *bot.RetryError wrapping an *APIError.
// Its text never contains a credential.
type APIError struct {
	Method  string // "chat.postMessage"
	Channel string
	// Code is Slack's error code ("channel_not_found", "invalid_auth"), or
	// "http_<status>", "network", "canceled", "bad_response".
	Code string
	// Hint says what to do about it.
	Hint  string
	msg   string // scrubbed detail
	cause error  // only context.Canceled / context.DeadlineExceeded
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("slack ")
	b.WriteString(e.Method)
	if e.Channel != "" {
		b.WriteString(" in ")
		b.WriteString(e.Channel)
	}
	b.WriteString(": ")
	b.WriteString(e.Code)
	if e.msg != "" && e.msg != e.Code {
		b.WriteString(" (" + e.msg + ")")
	}
	if e.Hint != "" {
		b.WriteString(": ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Unwrap returns context.Canceled or context.DeadlineExceeded when the call
// ended because of one; the underlying transport error is not exposed (it
// could carry request details).
func (e *APIError) Unwrap() error { return e.cause }

func (n *Notifier) classify(method, ch string, err error) error {
	ae := &APIError{Method: method, Channel: ch}
	retry := func(after time.Duration) error { return &bot.RetryError{After: after, Err: ae} }

	var rl *goslack.RateLimitedError
	var sc goslack.StatusCodeError
	var se goslack.SlackErrorResponse
	var ne net.Error
	var se2 *json.SyntaxError
	var te *json.UnmarshalTypeError
	var numErr *strconv.NumError
	switch {
	case errors.As(err, &rl):
		ae.Code, ae.Hint = "ratelimited", "Slack rate limit; retry after "+rl.RetryAfter.String()
		return retry(rl.RetryAfter)
	case errors.As(err, &se):
		ae.Code = n.scrub.String(se.Err)
		if ae.Code == "" {
			ae.Code = "unknown_error"
		}
		ae.Hint = hint(method, ae.Code, se.Needed)
		if temporaryCode(ae.Code) {
			return retry(0)
		}
		return ae
	case errors.As(err, &sc):
		ae.Code = "http_" + strconv.Itoa(sc.Code)
		ae.msg = n.scrub.String(sc.Status)
		if sc.Code == http.StatusTooManyRequests || sc.Code == http.StatusRequestTimeout || sc.Code >= 500 {
			ae.Hint = "Slack is unavailable; will retry"
			return retry(0)
		}
		ae.Hint = "unexpected HTTP status from the Slack API: check slack.api_url"
		return ae
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		ae.Code, ae.msg = "canceled", n.scrub.String(err.Error())
		if errors.Is(err, context.DeadlineExceeded) {
			ae.cause = context.DeadlineExceeded
		} else {
			ae.cause = context.Canceled
		}
		return retry(0)
	case errors.As(err, &ne), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		ae.Code, ae.msg = "network", n.scrub.String(err.Error())
		ae.Hint = "cannot reach the Slack API (check network, proxy and slack.api_url); will retry"
		return retry(0)
	case errors.As(err, &numErr): // 429 with a Retry-After that is not a number
		ae.Code, ae.Hint = "ratelimited", "Slack rate limit"
		return retry(0)
	case errors.As(err, &se2), errors.As(err, &te):
		ae.Code, ae.msg = "bad_response", n.scrub.String(err.Error())
		ae.Hint = "the Slack API answered something that is not JSON (a proxy?); will retry"
		return retry(0)
	}
	ae.Code, ae.msg = "error", n.scrub.String(err.Error())
	return ae
}

// temporaryCode lists ok:false errors that are worth retrying.
func temporaryCode(code string) bool {
	switch code {
	case "ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable",
		"request_timeout", "team_added_to_org":
		return true
	}
	return false
}

// editImpossible lists chat.update errors after which a new message is the
// only way to deliver.
func editImpossible(code string) bool {
	switch code {
	case "message_not_found", "cant_update_message", "edit_window_closed":
		return true
	}
	return false
}

func hint(method, code, needed string) string {
	switch code {
	case "channel_not_found":
		return "the channel does not exist or the bot cannot see it: check that slack.alert_channel is a channel ID (C…, not #name) and, for a private channel, invite the bot with /invite @<bot name>"
	case "not_in_channel":
		return "the bot is not a member of this channel: invite it with /invite @<bot name> (or add the chat:write.public scope and reinstall the app)"
	case "is_archived":
		return "the channel is archived: unarchive it or point slack.alert_channel at another channel"
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "not_allowed_token_type":
		return "the Slack bot token is invalid or revoked: check slack.bot_token (a bot token, xoxb-…) and reinstall the app to the workspace"
	case "missing_scope":
		scope := needed
		if scope == "" {
			scope = "chat:write"
			if method == "conversations.history" {
				scope = "channels:history (groups:history for private channels)"
			}
		}
		return "the bot token lacks the scope " + scope + ": add it under OAuth & Permissions and reinstall the app"
	case "restricted_action", "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
		"restricted_action_non_threadable_channel", "ekm_access_denied", "team_access_not_granted":
		return "the workspace does not let the bot post in this channel: check the channel's posting permissions"
	case "message_not_found", "cant_update_message", "edit_window_closed":
		return "the message to edit is gone or cannot be edited"
	case "msg_too_long", "no_text", "invalid_blocks", "invalid_blocks_format", "too_many_attachments",
		"invalid_metadata_format", "invalid_metadata_schema", "metadata_too_large", "invalid_arguments",
		"invalid_form_data", "invalid_json":
		return "Slack rejected the message format; this is a bug in openclaw-bot, please report it"
	case "ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout":
		return "temporary Slack failure; will retry"
	}
	return "Slack refused the request"
}

// pacer spaces calls per channel: one call at a time, and the next one
// starts at least interval after the previous one ended (or after a 429's
// Retry-After, during which calls fail fast with a RetryError).
type pacer struct {
	interval time.Duration
	now      func() time.Time
	mu       sync.Mutex
	chans    map[string]*chanPace
}

type chanPace struct {
	sem     chan struct{} // one call in flight
	last    time.Time     // end of the previous call
	blocked time.Time     // Retry-After deadline
}

func newPacer(interval time.Duration, now func() time.Time) *pacer {
	return &pacer{interval: interval, now: now, chans: map[string]*chanPace{}}
}

// acquire waits for ch's turn. The returned release must be called with the
// Retry-After of a 429 (or 0) when the call is done.
func (p *pacer) acquire(ctx context.Context, ch string) (release func(retryAfter time.Duration), err error) {
	if p.interval < 0 {
		return func(time.Duration) {}, ctx.Err()
	}
	p.mu.Lock()
	cp := p.chans[ch]
	if cp == nil {
		cp = &chanPace{sem: make(chan struct{}, 1)}
		p.chans[ch] = cp
	}
	p.mu.Unlock()

	select {
	case cp.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// cp.last and cp.blocked are only touched while holding cp.sem.
	now := p.now()
	if cp.blocked.After(now) {
		after := cp.blocked.Sub(now)
		<-cp.sem
		return nil, &bot.RetryError{After: after}
	}
	if !cp.last.IsZero() {
		if wait := cp.last.Add(p.interval).Sub(now); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				<-cp.sem
				return nil, ctx.Err()
			}
		}
	}
	return func(retryAfter time.Duration) {
		end := p.now()
		cp.last = end
		if retryAfter > 0 {
			cp.blocked = end.Add(retryAfter)
		}
		<-cp.sem
	}, nil
}
