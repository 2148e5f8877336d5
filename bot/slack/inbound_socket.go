package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"
	goslack "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// SocketOptions configure RunSocket. The zero value is usable.
type SocketOptions struct {
	// Now is the clock for rendering; nil = time.Now.
	Now func() time.Time
	// Client posts replies to response_url; nil = a client with a 10 s
	// timeout. (The Web API and apps.connections.open use api's client.)
	Client *http.Client
	// APIURL is slack.api_url (the URL api was made with): besides Slack's
	// own hosts (ResponseURLHosts), a response_url on exactly its scheme
	// and host:port is accepted. "" = Slack's only.
	APIURL string
	// MaxConcurrent handler calls at once; 0 = DefaultMaxConcurrent.
	MaxConcurrent int
	// MaxPending accepted but unfinished requests; more are answered with
	// SlowDownText. 0 = DefaultMaxPending.
	MaxPending int
	// AckText, when set, is shown ephemerally as the ack of a slash
	// command ("⏳ working…"); "" = a bare ack.
	AckText string
	// DrainTimeout is how long RunSocket waits for in-flight requests
	// after ctx ends; 0 = DefaultDrainTimeout.
	DrainTimeout time.Duration
	// HandlerTimeout bounds one handler call plus the delivery of its
	// reply; 0 = DefaultHandlerTimeout.
	HandlerTimeout time.Duration
	// PingInterval: when Slack sends no WebSocket ping for this long the
	// connection is considered dead and reopened; 0 = 30 s.
	PingInterval time.Duration
	// Logger receives connection state (Info/Warn), delivery failures
	// (Warn) and handled requests (Debug); nil = no logging.
	Logger *zerolog.Logger
	// Scrubber removes known secrets from logged errors; nil = credential
	// shapes only. The app token is always added.
	Scrubber *redact.Scrubber
	// OnState is told when the WebSocket connects (true) and when it is
	// lost or RunSocket returns (false): readiness and metrics.
	OnState func(connected bool)
}

// RunSocket answers /openclaw slash commands and button presses over Slack
// Socket Mode until ctx ends. api is the bot-token client (NewClient): its
// API URL and HTTP client are used for apps.connections.open, and it posts
// replies through the Web API when a request has no response_url. appToken
// is the app-level token (xapp-…, scope connections:write).
//
// Every envelope is acked at once; the handler then runs in the
// background (bounded by MaxConcurrent / MaxPending) and its reply goes to
// the request's response_url. When ctx ends RunSocket closes the
// connection, waits up to DrainTimeout for in-flight requests and returns
// nil. It returns an error only when it cannot run: a missing token or a
// credential Slack rejects (invalid_auth, token_revoked, …).
func RunSocket(ctx context.Context, api *goslack.Client, appToken redact.Secret, h bot.Handler, opts SocketOptions) error {
	if api == nil {
		return errors.New("slack socket mode: no Slack client")
	}
	if appToken.IsZero() {
		return errors.New("slack socket mode: slack.app_token is empty: set an app-level token (xapp-…) with the connections:write scope, or use slack.mode: http")
	}
	scrub := opts.Scrubber
	if scrub == nil {
		scrub = redact.NewScrubber()
	}
	scrub.Add(appToken.Reveal())
	log := zerolog.Nop()
	if opts.Logger != nil {
		log = *opts.Logger
	}
	if !strings.HasPrefix(appToken.Reveal(), "xapp-") {
		log.Warn().Msg("slack: slack.app_token does not look like an app-level token (xapp-…)")
	}
	pingInterval := opts.PingInterval
	if pingInterval <= 0 {
		pingInterval = 30 * time.Second
	}

	// A copy of api that also carries the app-level token; api itself is
	// left as it is.
	withApp := *api
	goslack.OptionAppLevelToken(appToken.Reveal())(&withApp)
	client := socketmode.New(&withApp,
		socketmode.OptionPingInterval(pingInterval),
		socketmode.OptionLog(logAdapter{log: log, scrub: scrub}))

	onState := opts.OnState
	if onState == nil {
		onState = func(bool) {}
	}
	defer onState(false)
	r := &socketRunner{
		onState: onState,
		client:  client,
		ackText: opts.AckText,
		seen:    newReplayCache(),
		log:     log,
		scrub:   scrub,
	}
	r.in = newInbound(inboundConfig{
		handler: h, now: opts.Now, client: opts.Client, api: api, apiURL: opts.APIURL,
		maxConcurrent: opts.MaxConcurrent, maxPending: opts.MaxPending,
		drainTimeout: opts.DrainTimeout, handlerTimeout: opts.HandlerTimeout,
		log: &r.log, scrub: scrub,
	})

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- client.RunContext(runCtx) }()

	for {
		select {
		case <-ctx.Done():
			cancel()
			<-runErr
			r.drain()
			log.Info().Msg("slack: socket mode stopped")
			return nil
		case err := <-runErr:
			cancel()
			r.drain()
			if ctx.Err() != nil {
				log.Info().Msg("slack: socket mode stopped")
				return nil
			}
			return socketError(err, scrub)
		case evt := <-client.Events:
			r.handle(runCtx, evt)
		}
	}
}

func socketError(err error, scrub *redact.Scrubber) error {
	if err == nil {
		return errors.New("slack socket mode: connection ended")
	}
	msg := scrub.String(err.Error())
	switch msg {
	case "invalid_auth", "not_authed", "token_revoked", "account_inactive", "not_allowed_token_type":
		return fmt.Errorf("slack socket mode: apps.connections.open: %s: check slack.app_token (an app-level token xapp-… with the connections:write scope) and that Socket Mode is enabled for the app", msg)
	}
	var sc goslack.StatusCodeError
	if errors.As(err, &sc) && sc.Code == http.StatusNotFound {
		return fmt.Errorf("slack socket mode: apps.connections.open: HTTP 404: check slack.api_url")
	}
	return fmt.Errorf("slack socket mode: %s", msg)
}

type socketRunner struct {
	onState func(bool)
	in      *inbound
	client  *socketmode.Client
	ackText string
	seen    *replayCache // envelope ids already handled (Slack retries)
	log     zerolog.Logger
	scrub   *redact.Scrubber
}

func (r *socketRunner) drain() {
	if err := r.in.shutdownDrain(); err != nil {
		r.log.Warn().Err(err).Msg("slack: socket mode shutdown")
	}
}

func (r *socketRunner) handle(ctx context.Context, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		r.log.Debug().Msg("slack: socket mode connecting")
	case socketmode.EventTypeConnected:
		r.onState(true)
		r.log.Info().Msg("slack: socket mode connected")
	case socketmode.EventTypeHello:
		r.log.Debug().Msg("slack: socket mode hello")
	case socketmode.EventTypeDisconnect:
		r.onState(false)
		r.log.Info().Msg("slack: socket mode: Slack asked to reconnect")
	case socketmode.EventTypeConnectionError:
		var e error
		if ce, ok := evt.Data.(*goslack.ConnectionErrorEvent); ok && ce != nil {
			e = ce.ErrorObj
		}
		r.onState(false)
		r.logErr(zerolog.WarnLevel, e, "slack: socket mode connection failed; retrying")
	case socketmode.EventTypeInvalidAuth:
		r.log.Error().Msg("slack: socket mode: Slack refused the app token")
	case socketmode.EventTypeIncomingError:
		var e error
		if ie, ok := evt.Data.(*goslack.IncomingEventError); ok && ie != nil {
			e = ie.ErrorObj
		}
		r.logErr(zerolog.DebugLevel, e, "slack: socket mode read failed")
	case socketmode.EventTypeErrorBadMessage:
		var e error
		if bm, ok := evt.Data.(*socketmode.ErrorBadMessage); ok && bm != nil {
			e = bm.Cause
		}
		r.logErr(zerolog.WarnLevel, e, "slack: socket mode: undecodable message")
	case socketmode.EventTypeErrorWriteFailed:
		var e error
		if wf, ok := evt.Data.(*socketmode.ErrorWriteFailed); ok && wf != nil {
			e = wf.Cause
		}
		r.logErr(zerolog.WarnLevel, e, "slack: socket mode: ack write failed")
	case socketmode.EventTypeSlashCommand:
		r.slash(ctx, evt)
	case socketmode.EventTypeInteractive:
		r.interactive(ctx, evt)
	case socketmode.EventTypeEventsAPI:
		// Not subscribed to any; ack so Slack does not retry.
		if evt.Request != nil {
			r.ack(ctx, evt.Request, nil)
		}
	}
}

func (r *socketRunner) logErr(level zerolog.Level, err error, msg string) {
	e := r.log.WithLevel(level)
	if err != nil {
		e = e.Str("error", r.scrub.String(err.Error()))
	}
	e.Msg(msg)
}

func (r *socketRunner) ack(ctx context.Context, req *socketmode.Request, payload any) bool {
	if err := r.client.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
		r.logErr(zerolog.WarnLevel, err, "slack: socket mode ack failed")
		return false
	}
	return true
}

// duplicate reports whether this envelope was already handled (Slack
// re-sends an envelope whose ack it did not see in time).
func (r *socketRunner) duplicate(req *socketmode.Request) bool {
	if req.EnvelopeID == "" {
		return false
	}
	now := time.Now()
	if !r.seen.add(req.EnvelopeID, now, now.Add(10*time.Minute)) {
		r.log.Debug().Int("retry_attempt", req.RetryAttempt).Msg("slack: duplicate envelope acked and skipped")
		return true
	}
	return false
}

func ephemeralAck(text string) map[string]any {
	return map[string]any{"response_type": "ephemeral", "text": Escape(text)}
}

func (r *socketRunner) slash(ctx context.Context, evt socketmode.Event) {
	cmd, ok := evt.Data.(goslack.SlashCommand)
	req := evt.Request
	if req == nil {
		return
	}
	if !ok || r.duplicate(req) {
		r.ack(ctx, req, nil)
		return
	}
	if cmd.Command != Command {
		r.log.Info().Str("command", redact.String(truncate(cmd.Command, 40))).Str("user", cmd.UserID).
			Msg("slack: unknown slash command")
		r.ack(ctx, req, ephemeralAck(UnknownCommandText))
		return
	}
	if cmd.UserID == "" {
		r.log.Warn().Msg("slack: slash command without user_id ignored")
		r.ack(ctx, req, nil)
		return
	}
	t, err := r.in.reserve()
	switch {
	case errors.Is(err, errBusy):
		r.log.Warn().Str("user", cmd.UserID).Msg("slack: busy, slash command refused with slow down")
		r.ack(ctx, req, ephemeralAck(SlowDownText))
		return
	case err != nil:
		r.ack(ctx, req, ephemeralAck(ShuttingDownText))
		return
	}
	var payload any
	if r.ackText != "" {
		payload = ephemeralAck(r.ackText)
	}
	if !r.ack(ctx, req, payload) {
		t.release()
		return
	}
	breq := slashRequest(cmd)
	to := target{responseURL: cmd.ResponseURL, channel: cmd.ChannelID, user: cmd.UserID}
	t.start("command", func(ctx context.Context) { r.in.runRequest(ctx, breq, to) },
		func(ctx context.Context) { r.in.notice(ctx, to, InternalErrorText) })
}

func (r *socketRunner) interactive(ctx context.Context, evt socketmode.Event) {
	req := evt.Request
	if req == nil {
		return
	}
	ic, ok := evt.Data.(goslack.InteractionCallback)
	if !ok || r.duplicate(req) {
		r.ack(ctx, req, nil)
		return
	}
	p, responseURL, ok := PressFromInteraction(ic)
	if !ok {
		r.log.Debug().Str("type", string(ic.Type)).Msg("slack: interaction ignored")
		r.ack(ctx, req, nil)
		return
	}
	to := target{responseURL: responseURL, channel: p.Where, user: p.UserID, press: true}
	t, err := r.in.reserve()
	if !r.ack(ctx, req, nil) {
		if t != nil {
			t.release()
		}
		return
	}
	switch {
	case errors.Is(err, errBusy):
		r.log.Warn().Str("user", p.UserID).Msg("slack: busy, button press refused with slow down")
		r.in.goTracked(func(ctx context.Context) { r.in.notice(ctx, to, SlowDownText) })
		return
	case err != nil:
		return
	}
	t.start("press", func(ctx context.Context) { r.in.runPress(ctx, p, to) },
		func(ctx context.Context) { r.in.notice(ctx, to, InternalErrorText) })
}

// logAdapter lets socketmode log (debug mode only) through zerolog.
type logAdapter struct {
	log   zerolog.Logger
	scrub *redact.Scrubber
}

func (l logAdapter) Output(_ int, s string) error {
	l.log.Debug().Str("lib", "socketmode").Msg(l.scrub.String(strings.TrimSpace(s)))
	return nil
}
