// Package console renders bot.Message as plain text and "delivers" it to an
// io.Writer: the chat surface of `openclaw-bot demo` and of `serve` without
// any chat platform configured.
package console

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// TimeLayout is how instants are written.
const TimeLayout = "2006-01-02 15:04 MST"

func label(s bot.Severity) string {
	switch s {
	case bot.SevCritical:
		return "[CRITICAL]"
	case bot.SevWarning:
		return "[WARNING]"
	case bot.SevResolved:
		return "[RESOLVED]"
	}
	return "[INFO]"
}

// Render renders msg as plain text (no markup, no terminal escapes), times
// in loc (nil: UTC) followed by a relative part from now (zero: none). The
// result ends without a newline.
func Render(msg bot.Message, loc *time.Location, now time.Time) string {
	if loc == nil {
		loc = time.UTC
	}
	r := renderer{loc: loc, now: now}
	var blocks []string

	sev := msg.Severity
	if msg.Kind == bot.KindResolved {
		sev = bot.SevResolved
	}
	head := label(sev)
	if t := bot.CleanText(msg.Title); t != "" {
		head += " " + t
	}
	if msg.Target != "" {
		head += " (" + bot.CleanText(msg.Target) + ")"
	}
	if msg.Kind == bot.KindReminder {
		head += " - still firing"
	}
	blocks = append(blocks, head)

	for _, it := range msg.Items {
		blocks = append(blocks, r.item(it))
	}
	if t := strings.Trim(r.spans(msg.Text, ""), "\n"); t != "" {
		blocks = append(blocks, t)
	}
	var acts []string
	for _, b := range msg.Buttons {
		acts = append(acts, fmt.Sprintf("[%s] %s", bot.CleanText(b.Text), bot.CleanText(b.Action)))
	}
	if len(acts) > 0 {
		blocks = append(blocks, "actions: "+strings.Join(acts, "  "))
	}
	if f := strings.TrimSpace(r.spans(msg.Footer, "")); f != "" {
		blocks = append(blocks, "-- "+f)
	}
	return strings.Join(blocks, "\n\n")
}

type renderer struct {
	loc *time.Location
	now time.Time
}

func (r renderer) item(it bot.Item) string {
	const ind = "    "
	var lines []string
	if it.Resolved {
		lines = append(lines, "  - [resolved] "+bot.CleanText(it.Title))
	} else {
		lines = append(lines, "  - "+strings.ToLower(strings.Trim(label(it.Severity), "[]"))+": "+bot.CleanText(it.Title))
	}
	var meta []string
	if it.Code != "" {
		meta = append(meta, bot.CleanText(it.Code))
	}
	if it.Subject != "" {
		meta = append(meta, bot.CleanText(it.Subject))
	}
	if len(meta) > 0 {
		lines = append(lines, ind+strings.Join(meta, " | "))
	}
	if d := r.spans(it.Details, ind); d != "" {
		lines = append(lines, ind+d)
	}
	if !it.Resolved {
		if !it.Until.IsZero() {
			lines = append(lines, ind+"until "+FormatTime(it.Until, r.loc, r.now))
		}
		for _, rem := range it.Remedy {
			if s := r.spans(rem, ind+"  "); s != "" {
				lines = append(lines, ind+"fix: "+s)
			}
		}
	}
	return strings.Join(lines, "\n")
}

// spans concatenates spans; continuation lines and multi-line code get
// indent (+4 for code blocks).
func (r renderer) spans(spans []bot.Span, indent string) string {
	var b strings.Builder
	for _, sp := range spans {
		switch {
		case sp.IsTime():
			b.WriteString(FormatTime(sp.Time, r.loc, r.now))
		case sp.Code && strings.Contains(sp.Text, "\n"):
			code := strings.Trim(bot.CleanText(sp.Text), "\n")
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
				b.WriteString("\n")
			}
			for _, l := range strings.Split(code, "\n") {
				b.WriteString("    " + l + "\n")
			}
		default:
			b.WriteString(bot.CleanText(sp.Text))
		}
	}
	s := b.String()
	if indent != "" {
		s = strings.ReplaceAll(s, "\n", "\n"+indent)
	}
	return strings.TrimRight(s, " \n")
}

// FormatTime writes t as "2026-11-25 14:04 UTC (in 4m)" in loc (nil: UTC);
// the relative part is left out when now is zero.
func FormatTime(t time.Time, loc *time.Location, now time.Time) string {
	if loc == nil {
		loc = time.UTC
	}
	s := t.In(loc).Format(TimeLayout)
	if now.IsZero() {
		return s
	}
	return s + " (" + bot.Relative(t, now) + ")"
}

// Notifier prints messages to a writer. Safe for concurrent use: each
// message is written whole, in one Write.
type Notifier struct {
	w   io.Writer
	loc *time.Location
	// Now is the clock (default time.Now); set it before first use.
	Now func() time.Time
	// Scrubber removes secrets from the output (nil: credential-shaped
	// strings only).
	Scrubber *redact.Scrubber

	mu sync.Mutex
	id int
}

var _ bot.Notifier = (*Notifier)(nil)

// NewNotifier returns a Notifier writing to w with times in loc (nil: UTC).
func NewNotifier(w io.Writer, loc *time.Location) *Notifier {
	if loc == nil {
		loc = time.UTC
	}
	return &Notifier{w: w, loc: loc, Now: time.Now}
}

// Name implements bot.Notifier.
func (n *Notifier) Name() string { return "console" }

// Send implements bot.Notifier: it prints msg followed by a blank line; an
// edit (prev != nil) is printed again with "[update] " in front.
func (n *Notifier) Send(ctx context.Context, dest string, msg bot.Message, prev *bot.Sent) (bot.Sent, error) {
	if err := ctx.Err(); err != nil {
		return bot.Sent{}, &bot.RetryError{Err: err}
	}
	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	text := n.Scrubber.String(Render(msg, n.loc, now()))
	if prev != nil {
		text = "[update] " + text
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, err := io.WriteString(n.w, text+"\n\n"); err != nil {
		return bot.Sent{}, fmt.Errorf("console: %w", err)
	}
	if prev != nil {
		return *prev, nil
	}
	n.id++
	return bot.Sent{Channel: dest, ID: strconv.Itoa(n.id)}, nil
}
