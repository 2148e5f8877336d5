// Package bot holds the one platform-neutral message model that every chat
// surface renders (bot/slack: Block Kit, bot/telegram: HTML, bot/console:
// plain text), and the small interfaces the scheduler and the command router
// use to reach those surfaces.
package bot

import (
	"context"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/severity"
)

// Kind says what a message is for.
type Kind string

// Message kinds.
const (
	KindAlert    Kind = "alert"    // new problems on a target
	KindReminder Kind = "reminder" // still firing
	KindResolved Kind = "resolved" // edit of an alert: everything in it is fixed
	KindReply    Kind = "reply"    // an answer to a command
)

// Severity of a message (worst of its items).
type Severity string

// Severities. Resolved is used for resolved notices.
const (
	SevCritical Severity = "critical"
	SevWarning  Severity = "warning"
	SevInfo     Severity = "info"
	SevResolved Severity = "resolved"
)

// Message is one chat message. Renderers must escape every text field for
// their platform; nothing here is pre-formatted markup.
type Message struct {
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	Target   string   `json:"target,omitempty"`
	// Title is the one-line summary, shown first and used as the
	// notification text (Slack "text", Telegram first line).
	Title string `json:"title"`
	// Items are the findings/incidents the message is about.
	Items []Item `json:"items,omitempty"`
	// Text is free plain text (command replies); rendered after Items.
	Text []Span `json:"text,omitempty"`
	// Buttons act on the message (alert: reset cooldown, re-check,
	// silence 1h). Pressing one opens the same preview a typed command
	// would, for whoever pressed it, after the role check.
	Buttons []Button `json:"buttons,omitempty"`
	// Footer is small print (target, state dir, "resolved after 12m").
	Footer []Span `json:"footer,omitempty"`
	// Ref identifies what the message is about, stable across edits
	// (e.g. "alert:<target>:<group id>"): Slack metadata, outbox key.
	Ref string `json:"ref,omitempty"`
}

// Item is one finding in a message.
type Item struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Subject  string   `json:"subject,omitempty"`
	Title    string   `json:"title"`
	// Details are rendered under the title: evidence, "why", reason, ...
	Details []Span `json:"details,omitempty"`
	// Until is when a time-bound condition ends (cooldown, disable);
	// rendered as a time each reader sees in their own zone (Slack
	// <!date^…>, Telegram in telegram.timezone) plus "in 4m".
	Until time.Time `json:"until,omitzero"`
	// Remedy lines; commands are Spans with Code set.
	Remedy [][]Span `json:"remedy,omitempty"`
	// Resolved marks an item fixed (in a resolved notice or a partial edit).
	Resolved bool `json:"resolved,omitempty"`
}

// Span is a run of text with one style. A Span with Time set renders that
// instant (Text is the fallback) in the reader's zone.
type Span struct {
	Text string    `json:"text,omitempty"`
	Bold bool      `json:"bold,omitempty"`
	Code bool      `json:"code,omitempty"`
	Time time.Time `json:"time,omitzero"`
}

// Button is an interactive button. Action is its payload, an Action's
// Format (at most MaxActionBytes: Telegram callback data).
type Button struct {
	Text   string `json:"text"`
	Action string `json:"action"`
	Style  string `json:"style,omitempty"` // "", "primary", "danger"
}

// T is a plain span; C is a code span; B is bold; At is a time.
func T(s string) Span                    { return Span{Text: s} }
func C(s string) Span                    { return Span{Text: s, Code: true} }
func B(s string) Span                    { return Span{Text: s, Bold: true} }
func At(t time.Time) Span                { return Span{Text: t.UTC().Format(time.RFC3339), Time: t} }
func Line(spans ...Span) []Span          { return spans }
func (m Message) IsEdit() bool           { return m.Kind == KindResolved }
func (s Span) IsTime() bool              { return !s.Time.IsZero() }
func (s Severity) Worse(o Severity) bool { return severity.Rank(s) < severity.Rank(o) }

// Sent identifies a delivered message on its platform, so it can be edited
// (Slack channel + ts, Telegram chat id + message id).
type Sent struct {
	Channel string `json:"channel"`
	ID      string `json:"id"`
}

// Notifier delivers messages to one chat platform. Send posts a new message,
// or edits prev in place when prev is not nil. A *RetryError asks the caller
// to try again later; any other error is permanent for this message.
type Notifier interface {
	Name() string
	Send(ctx context.Context, dest string, msg Message, prev *Sent) (Sent, error)
}

// RetryError is a temporary delivery failure (5xx, 429, network).
type RetryError struct {
	After time.Duration // 0: use the caller's backoff
	Err   error
}

func (e *RetryError) Error() string { return "temporary: " + e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }

// Finder is implemented by notifiers that can tell whether a message with
// this Ref was already delivered (Slack: message metadata). The outbox
// worker asks before re-sending an item whose earlier attempt may have gone
// through just before a crash.
type Finder interface {
	Find(ctx context.Context, dest, ref string, since time.Time) (*Sent, error)
}
