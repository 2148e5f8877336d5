package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// Webhook constants.
const (
	// WebhookPath is where serve mounts the webhook handler.
	WebhookPath = "/telegram/webhook"
	// SecretHeader carries setWebhook's secret_token on every update.
	SecretHeader = "X-Telegram-Bot-Api-Secret-Token"
	// webhookSlotWait is how long a webhook request waits for a free
	// worker before answering 503 (Telegram then redelivers).
	webhookSlotWait = 5 * time.Second
)

// WebhookHandler receives updates (telegram.mode: webhook). It is an
// http.Handler for POST WebhookPath; stop it with Shutdown.
type WebhookHandler struct {
	in     *inbound
	secret []byte
	ctx    context.Context // lifetime of asynchronous processing
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	seen   map[int]struct{} // recent update ids (Telegram may redeliver)
	order  []int
}

var _ http.Handler = (*WebhookHandler)(nil)

// NewWebhookHandler returns the handler for POST WebhookPath. A request is
// refused with 401 (the handler is not called) unless its
// X-Telegram-Bot-Api-Secret-Token header equals opts.WebhookSecret
// (compared in constant time; with no secret configured every request is
// refused). The body is limited to opts.MaxBody (413). A valid update is
// answered 200 at once and handled asynchronously exactly like RunPolling
// does; when all MaxConcurrent workers stay busy for 5 s the request gets
// 503 so that Telegram delivers it again later. Call Shutdown on exit.
func NewWebhookHandler(api *tgbotapi.BotAPI, h bot.Handler, opts InboundOptions) *WebhookHandler {
	in := newInbound(api, h, opts)
	ctx, cancel := context.WithCancel(context.Background())
	if opts.WebhookSecret.IsZero() {
		in.log.Error().Msg("telegram: telegram.webhook_secret is empty: every webhook request will be refused")
	}
	return &WebhookHandler{
		in:     in,
		secret: []byte(opts.WebhookSecret.Reveal()),
		ctx:    ctx,
		cancel: cancel,
		seen:   map[int]struct{}{},
	}
}

// ServeHTTP implements http.Handler.
func (wh *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	got := r.Header.Get(SecretHeader)
	if len(wh.secret) == 0 || subtle.ConstantTimeCompare([]byte(got), wh.secret) != 1 {
		what := "a wrong"
		if got == "" {
			what = "no"
		}
		wh.in.log.Warn().Str("remote", remoteIP(r)).Msg("telegram: webhook request with " + what + " secret token refused")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var u tgbotapi.Update
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, wh.in.opts.MaxBody))
	if err := dec.Decode(&u); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		wh.in.log.Warn().Str("err", wh.in.scrub(err.Error())).Msg("telegram: webhook body is not an update")
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if wh.duplicate(u.UpdateID) {
		w.WriteHeader(http.StatusOK)
		return
	}
	j := wh.in.jobFor(&u)
	if j == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	if !wh.in.tryAcquire() {
		wh.in.answerNow(r.Context(), j)
		t := time.NewTimer(webhookSlotWait)
		defer t.Stop()
		select {
		case wh.in.sem <- struct{}{}:
		case <-t.C:
			wh.unsee(u.UpdateID)
			w.Header().Set("Retry-After", "5")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		case <-r.Context().Done():
			wh.unsee(u.UpdateID)
			return
		case <-wh.ctx.Done():
			wh.unsee(u.UpdateID)
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
	}
	wh.mu.Lock()
	if wh.closed {
		wh.mu.Unlock()
		<-wh.in.sem
		wh.unsee(u.UpdateID)
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	wh.in.start(wh.ctx, j) // wg.Add under mu: never races Shutdown's Wait
	wh.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// duplicate records id and reports whether it was seen recently.
func (wh *WebhookHandler) duplicate(id int) bool {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	if _, ok := wh.seen[id]; ok {
		return true
	}
	wh.seen[id] = struct{}{}
	wh.order = append(wh.order, id)
	if len(wh.order) > 512 {
		delete(wh.seen, wh.order[0])
		wh.order = wh.order[1:]
	}
	return false
}

// unsee forgets id so that Telegram's redelivery is handled.
func (wh *WebhookHandler) unsee(id int) {
	wh.mu.Lock()
	delete(wh.seen, id)
	wh.mu.Unlock()
}

// Shutdown refuses new updates (503) and waits for those in flight; when
// ctx ends first their context is cancelled and Shutdown returns ctx.Err()
// once they have stopped. Safe to call more than once.
func (wh *WebhookHandler) Shutdown(ctx context.Context) error {
	wh.mu.Lock()
	wh.closed = true
	wh.mu.Unlock()
	done := make(chan struct{})
	go func() {
		wh.in.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		wh.cancel()
		return nil
	case <-ctx.Done():
		wh.cancel()
		<-done
		return ctx.Err()
	}
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// secretTokenRE is Telegram's rule for setWebhook's secret_token, compiled
// on first use ({1,256} is a large program: ~1 ms of every start-up).
var secretTokenRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`) })

// webhookPorts are the ports Telegram delivers webhooks to.
var webhookPorts = map[string]bool{"": true, "443": true, "80": true, "88": true, "8443": true}

// SetWebhook registers webhookURL (telegram.webhook_url, https) with
// Telegram: setWebhook with secret_token = secret and allowed_updates
// ["message","callback_query"], then setMyCommands with cmds (the
// handler's, see Commander). secret must be 1-256 of
// A-Z a-z 0-9 _ - (Telegram's rule). Errors are scrubbed of the token and
// the secret; a *bot.RetryError is temporary (retry in the background).
func SetWebhook(ctx context.Context, api *tgbotapi.BotAPI, webhookURL string, secret redact.Secret, cmds []bot.CommandInfo) error {
	if api == nil {
		return errors.New("telegram: SetWebhook needs a Bot API client")
	}
	scrub := inboundScrub(api.Token, secret, nil)
	webhookURL = strings.TrimSpace(webhookURL)
	u, err := url.Parse(webhookURL)
	if err != nil || u.Host == "" || u.Scheme != "https" {
		return fmt.Errorf("telegram: telegram.webhook_url %q must be an https URL (Telegram delivers webhooks over HTTPS only), e.g. https://bot.example.com%s", scrub(redact.String(webhookURL)), WebhookPath)
	}
	if !webhookPorts[u.Port()] {
		return fmt.Errorf("telegram: telegram.webhook_url %s uses port %s: Telegram only delivers to ports 443, 80, 88 and 8443", scrub(u.Redacted()), u.Port())
	}
	if !secretTokenRE().MatchString(secret.Reveal()) {
		return errors.New("telegram: telegram.webhook_secret must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule for secret_token)")
	}
	allowed, _ := json.Marshal(AllowedUpdates)
	params := tgbotapi.Params{
		"url":             webhookURL,
		"secret_token":    secret.Reveal(),
		"allowed_updates": string(allowed),
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := withContext(api, cctx).MakeRequest("setWebhook", params); err != nil {
		err = classifyErr(ctx, scrub, "setWebhook", "", err)
		return fmt.Errorf("telegram: registering the webhook %s: %w", scrub(u.Redacted()), err)
	}
	if err := SetMyCommands(ctx, api, cmds); err != nil {
		return fmt.Errorf("telegram: the webhook is set but the command menu is not: %w", err)
	}
	return nil
}
