// Package telegram renders bot.Message as Telegram HTML and delivers it
// through the Bot API (github.com/go-telegram-bot-api/telegram-bot-api/v5).
package telegram

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/openclaw-bot/openclaw-bot/bot"
)

// Telegram limits.
const (
	// MaxTextLen is the message length limit. Telegram counts characters
	// after entity parsing; Render measures the HTML source in UTF-16 code
	// units, which is never less, so it is conservative.
	MaxTextLen = 4096
	// MaxCallbackData is the callback_data limit in bytes.
	MaxCallbackData = 64
	// ButtonsPerRow is how many buttons share one keyboard row.
	ButtonsPerRow = 3
	// preAfter is the length from which a remedy command is shown as a
	// <pre> block instead of inline <code>.
	preAfter = 60
)

// Severity markers.
const (
	MarkCritical = "🔴"
	MarkWarning  = "🟠"
	MarkInfo     = "🔵"
	MarkResolved = "✅"
)

// TimeLayout is how instants are written (in telegram.timezone).
const TimeLayout = "2006-01-02 15:04 MST"

func marker(s bot.Severity) string {
	switch s {
	case bot.SevCritical:
		return MarkCritical
	case bot.SevWarning:
		return MarkWarning
	case bot.SevResolved:
		return MarkResolved
	}
	return MarkInfo
}

// Render renders msg as a Telegram HTML parse-mode text and its inline
// keyboard (nil when msg has no valid button). Times are written in loc
// (nil: UTC) with a relative part computed from now (zero now: none).
// The text never exceeds MaxTextLen UTF-16 units: when too long, whole
// items are dropped from the end and replaced by "…and N more"; only a
// message whose title, text or footer alone is too long is cut inside, and
// then only between characters, never inside a tag or an entity, with every
// open tag closed. Buttons that fail Validate are left out.
func Render(msg bot.Message, loc *time.Location, now time.Time) (string, *tgbotapi.InlineKeyboardMarkup) {
	if loc == nil {
		loc = time.UTC
	}
	r := renderer{loc: loc, now: now}
	return r.text(msg), Keyboard(msg.Buttons)
}

// Keyboard builds the inline keyboard for buttons, leaving out those that
// fail ValidateButton. It returns nil when none is left.
func Keyboard(buttons []bot.Button) *tgbotapi.InlineKeyboardMarkup {
	var rows [][]tgbotapi.InlineKeyboardButton
	var row []tgbotapi.InlineKeyboardButton
	for _, b := range buttons {
		if ValidateButton(b) != nil {
			continue
		}
		row = append(row, tgbotapi.NewInlineKeyboardButtonData(bot.CleanText(b.Text), b.Action))
		if len(row) == ButtonsPerRow {
			rows = append(rows, row)
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return &kb
}

// ErrCallbackData is wrapped by Validate errors about button actions.
var ErrCallbackData = errors.New("telegram callback_data must be 1-64 bytes of UTF-8")

// ValidateButton checks that b can be sent as an inline keyboard button:
// a non-empty text of at most 200 characters and an Action (callback_data)
// of 1 to 64 bytes of valid UTF-8.
func ValidateButton(b bot.Button) error {
	if strings.TrimSpace(b.Text) == "" {
		return fmt.Errorf("button with action %q has no text", b.Action)
	}
	if utf8.RuneCountInString(b.Text) > 200 {
		return fmt.Errorf("button %q: text longer than 200 characters", b.Text)
	}
	if n := len(b.Action); n == 0 || n > MaxCallbackData || !utf8.ValidString(b.Action) {
		return fmt.Errorf("button %q: action is %d bytes: %w", b.Text, len(b.Action), ErrCallbackData)
	}
	return nil
}

// Validate reports every button of msg that Telegram would reject (see
// ValidateButton). Render and the notifier leave such buttons out.
func Validate(msg bot.Message) error {
	var errs []error
	for _, b := range msg.Buttons {
		if err := ValidateButton(b); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

type renderer struct {
	loc *time.Location
	now time.Time
}

func (r renderer) text(msg bot.Message) string {
	head := r.header(msg)
	items := make([]string, len(msg.Items))
	for i, it := range msg.Items {
		items[i] = r.item(it)
	}
	text := r.spansBlock(msg.Text)
	foot := r.footer(msg.Footer)

	assemble := func(shown []string, more int) string {
		parts := []string{head}
		parts = append(parts, shown...)
		if more > 0 {
			parts = append(parts, moreLine(more))
		}
		parts = append(parts, text, foot)
		return joinNonEmpty(parts, "\n\n")
	}
	// Find the most items that fit, from lengths alone (items are never
	// empty, so each adds its length plus a separator).
	n := len(items)
	fixed := 0
	for _, p := range []string{head, text, foot} {
		if p != "" {
			fixed += UTF16Len(p) + 2
		}
	}
	prefix := make([]int, n+1)
	for i, it := range items {
		prefix[i+1] = prefix[i] + UTF16Len(it) + 2
	}
	size := func(k int) int {
		l := fixed + prefix[k] - 2
		if k < n {
			l += UTF16Len(moreLine(n-k)) + 2
		}
		return l
	}
	for k := n; k >= 0; k-- {
		if size(k) > MaxTextLen {
			continue
		}
		if k == 0 && n > 0 {
			// Not even the first item fits whole: show as much of it
			// as there is room for, rather than nothing.
			base := UTF16Len(assemble([]string{"x"}, n-1)) - 1
			if room := MaxTextLen - base; room >= 200 {
				return assemble([]string{TruncateHTML(items[0], room)}, n-1)
			}
		}
		return assemble(items[:k], n-k)
	}
	// Title, text or footer alone are too long.
	return TruncateHTML(assemble(nil, n), MaxTextLen)
}

func moreLine(n int) string { return fmt.Sprintf("<i>…and %d more</i>", n) }

func joinNonEmpty(parts []string, sep string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}

func (r renderer) header(msg bot.Message) string {
	sev := msg.Severity
	if msg.Kind == bot.KindResolved {
		sev = bot.SevResolved
	}
	var b strings.Builder
	b.WriteString(marker(sev))
	if t := bot.CleanText(msg.Title); t != "" {
		b.WriteString(" <b>" + Escape(t) + "</b>")
	}
	if msg.Kind == bot.KindReminder {
		b.WriteString(" <i>(still firing)</i>")
	}
	return b.String()
}

func (r renderer) item(it bot.Item) string {
	var lines []string
	title := Escape(bot.CleanText(it.Title))
	if it.Resolved {
		lines = append(lines, MarkResolved+" <s>"+title+"</s>")
	} else {
		lines = append(lines, marker(it.Severity)+" <b>"+title+"</b>")
	}
	var meta []string
	if it.Code != "" {
		meta = append(meta, "<code>"+Escape(bot.CleanText(it.Code))+"</code>")
	}
	if it.Subject != "" {
		meta = append(meta, Escape(bot.CleanText(it.Subject)))
	}
	if len(meta) > 0 {
		lines = append(lines, strings.Join(meta, " · "))
	}
	if d := r.spans(it.Details, false); d != "" {
		lines = append(lines, d)
	}
	if !it.Resolved {
		if !it.Until.IsZero() {
			lines = append(lines, "⏳ until "+Escape(r.when(it.Until)))
		}
		for _, rem := range it.Remedy {
			if l := r.remedy(rem); l != "" {
				lines = append(lines, l)
			}
		}
	}
	return strings.Join(lines, "\n")
}

// remedy renders one remedy line: "→ " and its spans, or a <pre> block for
// a single long or multi-line command.
func (r renderer) remedy(line []bot.Span) string {
	if len(line) == 1 && line[0].Code && !line[0].IsTime() {
		cmd := bot.CleanText(line[0].Text)
		if utf8.RuneCountInString(cmd) > preAfter || strings.Contains(cmd, "\n") {
			return "<pre>" + Escape(cmd) + "</pre>"
		}
	}
	s := r.spans(line, false)
	if s == "" {
		return ""
	}
	return "→ " + s
}

// spansBlock renders free text (command replies): code spans with a newline
// become <pre> blocks.
func (r renderer) spansBlock(spans []bot.Span) string {
	return strings.Trim(r.spans(spans, false), "\n")
}

// spans renders a run of spans. In italic mode (footer) plain and bold runs
// are wrapped in <i>, code stays outside it (Telegram does not allow code
// inside other entities).
func (r renderer) spans(spans []bot.Span, italic bool) string {
	var b strings.Builder
	inI := false
	setI := func(on bool) {
		if italic && on != inI {
			if on {
				b.WriteString("<i>")
			} else {
				b.WriteString("</i>")
			}
			inI = on
		}
	}
	for _, sp := range spans {
		switch {
		case sp.IsTime():
			setI(true)
			txt := Escape(r.when(sp.Time))
			if sp.Bold {
				txt = "<b>" + txt + "</b>"
			}
			b.WriteString(txt)
		case sp.Code:
			txt := bot.CleanText(sp.Text)
			if txt == "" {
				continue
			}
			setI(false)
			if strings.Contains(txt, "\n") {
				b.WriteString("<pre>" + Escape(strings.Trim(txt, "\n")) + "</pre>")
			} else {
				b.WriteString("<code>" + Escape(txt) + "</code>")
			}
		default:
			txt := bot.CleanText(sp.Text)
			if txt == "" {
				continue
			}
			setI(true)
			if sp.Bold {
				b.WriteString("<b>" + Escape(txt) + "</b>")
			} else {
				b.WriteString(Escape(txt))
			}
		}
	}
	setI(false)
	return b.String()
}

func (r renderer) footer(spans []bot.Span) string {
	return strings.TrimSpace(r.spans(spans, true))
}

// when writes t in the renderer's zone, plus " (in 4m)" / " (4m ago)".
func (r renderer) when(t time.Time) string {
	return FormatTime(t, r.loc, r.now)
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

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// Escape escapes s for Telegram HTML parse mode (&, <, > and ", so the
// result is also safe inside a quoted attribute).
func Escape(s string) string { return htmlEscaper.Replace(s) }

// TruncateHTML cuts the Telegram HTML s so that it is at most limit UTF-16
// units long, ending in "…". It cuts only between characters (never inside
// a tag or an entity) and closes every tag still open at the cut.
func TruncateHTML(s string, limit int) string {
	if UTF16Len(s) <= limit {
		return s
	}
	const ellipsis = "…"
	var stack []string
	closeCost := 0 // UTF-16 length of the closing tags needed at this point
	used := 0
	cut := 0
	i := 0
	for i < len(s) {
		var tok string
		switch s[i] {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				end = len(s) - i - 1
			}
			tok = s[i : i+end+1]
		case '&':
			end := strings.IndexByte(s[i:], ';')
			if end < 0 || end > 10 {
				end = 0
			}
			tok = s[i : i+end+1]
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			tok = s[i : i+size]
		}
		n := UTF16Len(tok)
		if strings.HasPrefix(tok, "</") {
			// A closing tag costs nothing extra: it was already reserved.
			if len(stack) > 0 {
				closeCost -= UTF16Len("</" + stack[len(stack)-1] + ">")
				stack = stack[:len(stack)-1]
			}
			used += n
		} else if strings.HasPrefix(tok, "<") {
			name := strings.TrimSuffix(strings.TrimPrefix(tok, "<"), ">")
			name, _, _ = strings.Cut(name, " ")
			c := UTF16Len("</" + name + ">")
			if used+n+c+closeCost+1 > limit {
				break
			}
			stack = append(stack, name)
			closeCost += c
			used += n
		} else {
			if used+n+closeCost+1 > limit {
				break
			}
			used += n
		}
		i += len(tok)
		cut = i
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(s[:cut], " \n"))
	b.WriteString(ellipsis)
	for j := len(stack) - 1; j >= 0; j-- {
		b.WriteString("</" + stack[j] + ">")
	}
	return b.String()
}

// UTF16Len is the length of s in UTF-16 code units (Telegram's unit).
func UTF16Len(s string) int { return bot.UTF16Len(s) }
