package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
)

// Session is the chat surface on a terminal: the same router as Slack and
// Telegram, one command per line. The console user is the local operator.
type Session struct {
	Handler  bot.Handler
	Out      io.Writer
	Location *time.Location
	Now      func() time.Time
	Prompt   string // default "openclaw> "

	buttons []bot.Button // of the last reply, for "confirm" / "cancel"
}

// Run answers commands read from in until EOF or ctx ends. A line may
// start with "/openclaw" or "/" (as typed in Slack or Telegram); "confirm",
// "cancel" or "press <action>" press a button of the last reply.
func (s *Session) Run(ctx context.Context, in io.Reader) error {
	if s.Prompt == "" {
		s.Prompt = "openclaw> "
	}
	if s.Location == nil {
		s.Location = time.Local
	}
	lines := make(chan string)
	errc := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), 64<<10)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		errc <- sc.Err()
	}()
	fmt.Fprint(s.Out, s.Prompt)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			fmt.Fprintln(s.Out)
			return err
		case line := <-lines:
			// A command in flight finishes even when ctx ends meanwhile
			// (graceful shutdown); the next line is not read.
			s.line(context.WithoutCancel(ctx), line)
			fmt.Fprint(s.Out, s.Prompt)
		}
	}
}

func (s *Session) line(ctx context.Context, line string) {
	text := strings.TrimSpace(line)
	text = strings.TrimSpace(strings.TrimPrefix(text, "/openclaw"))
	text = strings.TrimPrefix(text, "/")
	if text == "" {
		return
	}
	var reply bot.Reply
	if action, ok := s.pressed(text); ok {
		reply = s.Handler.Press(ctx, bot.Press{Surface: bot.SurfaceConsole, UserID: "console", UserName: "console", Private: true, Action: action})
	} else {
		reply = s.Handler.Handle(ctx, bot.Request{Surface: bot.SurfaceConsole, UserID: "console", UserName: "console", Private: true, Text: text})
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	if reply.Toast != "" {
		fmt.Fprintln(s.Out, reply.Toast)
	}
	if reply.Message.Title != "" || len(reply.Message.Items) > 0 || len(reply.Message.Text) > 0 {
		fmt.Fprintln(s.Out, Render(reply.Message, s.Location, now))
	}
	if len(reply.Message.Buttons) > 0 {
		s.buttons = reply.Message.Buttons
		var names []string
		for _, b := range s.buttons {
			names = append(names, strings.ToLower(b.Text))
		}
		fmt.Fprintf(s.Out, "(type %s)\n", strings.Join(names, " or "))
	}
}

// pressed maps "confirm", "cancel" (a button's text) or "press <action>" to
// a button action of the last reply.
func (s *Session) pressed(text string) (string, bool) {
	if a, ok := strings.CutPrefix(text, "press "); ok {
		return strings.TrimSpace(a), true
	}
	for _, b := range s.buttons {
		if strings.EqualFold(text, b.Text) {
			return b.Action, true
		}
	}
	return "", false
}
