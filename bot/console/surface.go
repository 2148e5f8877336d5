package console

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/config"
)

// Surface is the console as serve runs it when no chat platform is
// configured: alerts printed to out and, when in is set, the chat read
// from it (one command per line; EOF ends the chat, not the service).
type Surface struct {
	in       io.Reader
	out      io.Writer
	handler  bot.Handler
	notifier *Notifier
}

// NewSurface builds the console surface on in (nil: alerts only) and out.
func NewSurface(in io.Reader, out io.Writer, h bot.Handler) *Surface {
	return &Surface{in: in, out: out, handler: h, notifier: NewNotifier(out, time.Local)}
}

// Notifier prints alerts of every target, warning severity and above (the
// route's default).
func (s *Surface) Notifier() (bot.Notifier, config.AlertRoute) {
	return s.notifier, config.AlertRoute{Dest: "stdout"}
}

// Routes: none.
func (s *Surface) Routes() map[string]http.Handler { return nil }

// Run answers the lines of in until EOF or ctx ends.
func (s *Surface) Run(ctx context.Context) error {
	if s.in == nil {
		return nil
	}
	return (&Session{Handler: s.handler, Out: s.out}).Run(ctx, s.in)
}

// Ready: the console is always there.
func (s *Surface) Ready() bool { return true }

// Close: a command in flight is answered before Run returns.
func (s *Surface) Close() {}
