package slack

import (
	"context"
	"net/http"
	"sync/atomic"

	goslack "github.com/slack-go/slack"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/config"
)

// Surface is Slack as serve runs it, built from the slack section: the
// alert notifier and, by slack.mode, Socket Mode or the HTTP endpoints.
type Surface struct {
	cfg      config.Slack
	client   *goslack.Client
	notifier *Notifier
	handler  bot.Handler
	http     *HTTPHandler // http mode
	opts     bot.SurfaceOptions
	up       atomic.Bool
}

// NewSurface builds the Slack surface of c; h answers its commands.
// Nothing runs until Run.
func NewSurface(c config.Slack, h bot.Handler, o bot.SurfaceOptions) (*Surface, error) {
	client := NewClient(c.BotToken, c.APIURL, nil)
	s := &Surface{cfg: c, client: client, handler: h, opts: o,
		notifier: NewNotifier(client, Options{Logger: o.Logger, Scrubber: o.Scrubber})}
	if c.Mode == config.SlackHTTP {
		s.http = NewHTTPHandler(h, HTTPOptions{SigningSecret: c.SigningSecret, API: client, APIURL: c.APIURL, Logger: o.Logger, Scrubber: o.Scrubber})
	}
	return s, nil
}

// Notifier sends alerts to slack.alert_channel.
func (s *Surface) Notifier() (bot.Notifier, config.AlertRoute) { return s.notifier, s.cfg.Alerts() }

// Routes are CommandsPath and InteractionsPath in HTTP mode (none in
// Socket Mode).
func (s *Surface) Routes() map[string]http.Handler {
	if s.http == nil {
		return nil
	}
	return map[string]http.Handler{CommandsPath: s.http, InteractionsPath: s.http}
}

// Run runs Socket Mode until ctx ends; in HTTP mode there is nothing to
// run (requests arrive on the app's listener).
func (s *Surface) Run(ctx context.Context) error {
	if s.http != nil {
		return nil
	}
	return RunSocket(ctx, s.client, s.cfg.AppToken, s.handler, SocketOptions{APIURL: s.cfg.APIURL, Logger: s.opts.Logger, Scrubber: s.opts.Scrubber, OnState: s.setUp})
}

// Ready: Socket Mode is connected; in HTTP mode, always (the endpoints are
// mounted with the surface).
func (s *Surface) Ready() bool { return s.http != nil || s.up.Load() }

// Close finishes the HTTP requests in flight (Socket Mode drains when
// Run's ctx ends).
func (s *Surface) Close() {
	if s.http != nil {
		_ = s.http.Close()
	}
}

func (s *Surface) setUp(up bool) {
	s.up.Store(up)
	if s.opts.OnState != nil {
		s.opts.OnState(up)
	}
}
