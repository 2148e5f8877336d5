// Package slack is the Slack surface of openclaw-bot: it renders the
// platform-neutral bot.Message as Block Kit (Render / RenderAt) and delivers
// it through the Slack Web API (Notifier, which implements bot.Notifier and
// bot.Finder).
//
// Every piece of text that comes from a message is escaped for Slack mrkdwn
// (&, <, > become &amp; &lt; &gt;) and sent with verbatim parsing, so text
// from findings, configs or users can never become a mention (<!channel>,
// <@U…>) or a link. The only markup the renderer emits itself is bold,
// strikethrough, code and <!date^…> time tokens.
package slack

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	goslack "github.com/slack-go/slack"

	"github.com/openclaw-bot/openclaw-bot/bot"
)

// Slack limits the renderer respects. Lengths are counted in UTF-16 code
// units, which is never less than the character count Slack applies.
const (
	MaxSectionText  = 3000 // text of a section block / context element
	MaxBlocks       = 50   // blocks in one message
	MaxFallbackText = 4000 // the top-level "text" (notification, screen readers)
	MaxButtonText   = 75   // plain_text of a button
	MaxButtons      = 25   // elements of one actions block
)

// ActionsBlockID is the block_id of the buttons block, so interaction
// handlers can tell our buttons apart.
const ActionsBlockID = "openclaw_actions"

// longCode is the length from which a remedy command is shown as a
// preformatted block instead of inline code.
const longCode = 60

// Render renders msg as Block Kit with the current time for relative
// durations ("in 4m"). See RenderAt.
func Render(msg bot.Message) (text string, blocks []goslack.Block) {
	return RenderAt(msg, time.Now())
}

// RenderAt renders msg as Block Kit. text is the notification fallback
// (≤ MaxFallbackText); blocks are, in order: the title line with a severity
// marker, one section per item, the free text (split over several sections
// when long), an "and N more" section when the MaxBlocks limit forced
// folding, a context block with the footer, and an actions block with the
// buttons. now is used for the relative part of Until ("in 4m").
func RenderAt(msg bot.Message, now time.Time) (text string, blocks []goslack.Block) {
	resolvedMsg := msg.Kind == bot.KindResolved

	var head []goslack.Block
	if t := titleLine(msg); t != "" {
		head = append(head, section(truncate(t, MaxSectionText)))
	}

	var content []goslack.Block
	nItems := 0
	for _, it := range msg.Items {
		content = append(content, section(truncate(itemText(it, resolvedMsg || it.Resolved, now), MaxSectionText)))
		nItems++
	}
	for _, chunk := range splitSections(spansMrkdwn(msg.Text, false), MaxSectionText) {
		content = append(content, section(chunk))
	}

	var tail []goslack.Block
	if f := strings.TrimSpace(spansMrkdwn(msg.Footer, false)); f != "" {
		tail = append(tail, goslack.NewContextBlock("",
			goslack.NewTextBlockObject(goslack.MarkdownType, truncate(f, MaxSectionText), false, true)))
	}
	if ab := actions(msg.Buttons); ab != nil {
		tail = append(tail, ab)
	}

	if room := MaxBlocks - len(head) - len(tail); len(content) > room {
		keep := room - 1
		if keep < 0 {
			keep = 0
		}
		droppedItems := 0
		if nItems > keep {
			droppedItems = nItems - keep
		}
		droppedText := len(content) - keep - droppedItems
		content = append(content[:keep:keep], section(moreText(droppedItems, droppedText)))
	}

	blocks = make([]goslack.Block, 0, len(head)+len(content)+len(tail))
	blocks = append(blocks, head...)
	blocks = append(blocks, content...)
	blocks = append(blocks, tail...)
	return fallbackText(msg, resolvedMsg), blocks
}

// Marker is the emoji shown for a severity.
func Marker(s bot.Severity) string {
	switch s {
	case bot.SevCritical:
		return "🔴"
	case bot.SevWarning:
		return "🟠"
	case bot.SevInfo:
		return "🔵"
	case bot.SevResolved:
		return "✅"
	}
	return ""
}

func msgMarker(msg bot.Message) string {
	if msg.Kind == bot.KindResolved {
		return Marker(bot.SevResolved)
	}
	return Marker(msg.Severity)
}

func titleLine(msg bot.Message) string {
	title := bold(Escape(msg.Title))
	if title == "" {
		return ""
	}
	return joinNonEmpty(" ", msgMarker(msg), title)
}

func itemText(it bot.Item, resolved bool, now time.Time) string {
	var b strings.Builder
	title := Escape(it.Title)
	if resolved {
		b.WriteString(joinNonEmpty(" ", Marker(bot.SevResolved), wrap("~", title)))
	} else {
		b.WriteString(joinNonEmpty(" ", Marker(it.Severity), bold(title)))
	}
	if it.Subject != "" {
		b.WriteString(" · ")
		b.WriteString(inlineCode(Escape(it.Subject)))
	}
	if d := strings.TrimSpace(spansMrkdwn(it.Details, false)); d != "" {
		b.WriteString("\n")
		b.WriteString(d)
	}
	if resolved {
		// A fixed item needs neither its end time nor a remedy.
		return b.String()
	}
	if !it.Until.IsZero() {
		b.WriteString("\n⏳ until ")
		b.WriteString(DateToken(it.Until, it.Until.UTC().Format("2006-01-02 15:04 UTC")))
		b.WriteString(" (")
		b.WriteString(Escape(bot.Relative(it.Until, now)))
		b.WriteString(")")
	}
	var lines []string
	for _, line := range it.Remedy {
		if l := strings.TrimSpace(spansMrkdwn(line, true)); l != "" {
			lines = append(lines, l)
		}
	}
	switch len(lines) {
	case 0:
	case 1:
		if strings.HasPrefix(lines[0], "```") {
			b.WriteString("\n*Fix:*\n")
		} else {
			b.WriteString("\n*Fix:* ")
		}
		b.WriteString(lines[0])
	default:
		b.WriteString("\n*Fix:*")
		for _, l := range lines {
			b.WriteString("\n• ")
			b.WriteString(l)
		}
	}
	return b.String()
}

func moreText(items, text int) string {
	switch {
	case items > 0 && text > 0:
		return fmt.Sprintf("_…and %d more (output truncated)_", items)
	case items > 0:
		return fmt.Sprintf("_…and %d more_", items)
	default:
		return "_…output truncated_"
	}
}

func section(text string) *goslack.SectionBlock {
	return goslack.NewSectionBlock(goslack.NewTextBlockObject(goslack.MarkdownType, text, false, true), nil, nil)
}

func actions(buttons []bot.Button) *goslack.ActionBlock {
	if len(buttons) == 0 {
		return nil
	}
	if len(buttons) > MaxButtons {
		buttons = buttons[:MaxButtons]
	}
	elems := make([]goslack.BlockElement, 0, len(buttons))
	for _, btn := range buttons {
		// plain_text is shown literally (no mentions, no links), so the
		// visible text is exactly what the caller gave ("Confirm", "Cancel").
		txt := goslack.NewTextBlockObject(goslack.PlainTextType, truncate(btn.Text, MaxButtonText), true, false)
		e := goslack.NewButtonBlockElement(btn.Action, btn.Action, txt)
		switch btn.Style {
		case "primary":
			e = e.WithStyle(goslack.StylePrimary)
		case "danger":
			e = e.WithStyle(goslack.StyleDanger)
		}
		elems = append(elems, e)
	}
	return goslack.NewActionBlock(ActionsBlockID, elems...)
}

// fallbackText is the top-level "text": title and item titles (or the free
// text when there are no items), escaped, at most MaxFallbackText.
func fallbackText(msg bot.Message, resolvedMsg bool) string {
	var b strings.Builder
	b.WriteString(joinNonEmpty(" ", msgMarker(msg), Escape(msg.Title)))
	for _, it := range msg.Items {
		mark := Marker(it.Severity)
		if resolvedMsg || it.Resolved {
			mark = Marker(bot.SevResolved)
		}
		b.WriteString("\n• ")
		b.WriteString(joinNonEmpty(" ", mark, Escape(it.Title)))
		if it.Subject != "" {
			b.WriteString(" (" + Escape(it.Subject) + ")")
		}
	}
	if len(msg.Items) == 0 {
		if t := strings.TrimSpace(plainSpans(msg.Text)); t != "" {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(Escape(t))
		}
	}
	s := strings.TrimSpace(b.String())
	if s == "" {
		s = "openclaw-bot"
	}
	return truncate(s, MaxFallbackText)
}

func plainSpans(spans []bot.Span) string {
	var b strings.Builder
	for _, s := range spans {
		b.WriteString(s.Text)
	}
	return b.String()
}

// Escape escapes text for Slack mrkdwn: &, < and > become entities, which is
// all Slack needs to never read the text as a mention, link or date token.
func Escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	return mrkdwnEscaper.Replace(s)
}

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// DateToken renders t as a Slack date token that every reader sees in their
// own time zone; fallback (escaped here) is shown by clients that cannot.
func DateToken(t time.Time, fallback string) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), Escape(fallback))
}

// spansMrkdwn renders a run of spans. In remedies (remedy=true) long
// commands become preformatted blocks; anywhere, code with a newline or a
// backtick does.
func spansMrkdwn(spans []bot.Span, remedy bool) string {
	var b strings.Builder
	pendingNL := false // a preformatted block was just closed
	for _, s := range spans {
		if s.Text == "" && !s.IsTime() {
			continue
		}
		var out string
		isBlock := false
		switch {
		case s.IsTime():
			out = DateToken(s.Time, s.Text)
		case s.Code:
			if strings.ContainsAny(s.Text, "\n`") || (remedy && utf8.RuneCountInString(s.Text) > longCode) {
				out, isBlock = codeBlock(Escape(s.Text)), true
			} else {
				out = inlineCode(Escape(s.Text))
			}
		case s.Bold:
			out = bold(Escape(s.Text))
		default:
			out = Escape(s.Text)
		}
		if pendingNL && !strings.HasPrefix(out, "\n") {
			b.WriteString("\n")
		}
		pendingNL = false
		if isBlock {
			if cur := b.String(); cur != "" && !strings.HasSuffix(cur, "\n") {
				// Trailing blanks before a block would be a dangling line.
				trimmed := strings.TrimRight(cur, " \t")
				b.Reset()
				b.WriteString(trimmed)
				b.WriteString("\n")
			}
			pendingNL = true
		}
		b.WriteString(out)
	}
	return b.String()
}

func inlineCode(escaped string) string {
	if strings.TrimSpace(escaped) == "" {
		return escaped
	}
	return "`" + escaped + "`"
}

func codeBlock(escaped string) string {
	// A literal ``` inside would close the block early.
	escaped = strings.ReplaceAll(escaped, "```", "`\u200b`\u200b`")
	return "```" + strings.Trim(escaped, "\n") + "```"
}

// bold wraps escaped text in *…*, keeping surrounding blanks outside (Slack
// does not format "* x*").
func bold(escaped string) string { return wrap("*", escaped) }

func wrap(mark, escaped string) string {
	core := strings.TrimSpace(escaped)
	if core == "" {
		return escaped
	}
	i := strings.Index(escaped, core)
	return escaped[:i] + mark + core + mark + escaped[i+len(core):]
}

func joinNonEmpty(sep string, parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// safeCut returns the byte offset of the longest prefix of s that is at most
// max UTF-16 units long and does not end inside an entity (&amp;), a <…>
// token or a run of backticks.
func safeCut(s string, max int) int {
	n, cut := 0, len(s)
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if n+w > max {
			cut = i
			break
		}
		n += w
	}
	p := s[:cut]
	if amp := strings.LastIndexByte(p, '&'); amp >= 0 && !strings.Contains(p[amp:], ";") {
		p = p[:amp]
	}
	if lt := strings.LastIndexByte(p, '<'); lt >= 0 && !strings.Contains(p[lt:], ">") {
		p = p[:lt]
	}
	if len(p) < len(s) {
		for strings.HasSuffix(p, "`") && s[len(p)] == '`' {
			p = p[:len(p)-1]
		}
	}
	return len(p)
}

// truncate shortens s to at most max UTF-16 units, ending in "…" and
// closing a preformatted block it cut open.
func truncate(s string, max int) string {
	if bot.UTF16Len(s) <= max {
		return s
	}
	p := s[:safeCut(s, max-4)] // room for "…" and a closing ```
	if strings.Count(p, "```")%2 == 1 {
		return p + "…```"
	}
	return p + "…"
}

// splitSections splits rendered text into chunks of at most max units,
// at line breaks where possible, closing and reopening preformatted blocks
// at a split so each chunk renders on its own.
func splitSections(s string, max int) []string {
	s = strings.Trim(s, "\n")
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if bot.UTF16Len(s) <= max {
		return []string{s}
	}
	const fence = "```"
	budget := max - 2*len(fence) // reopen at the start, close at the end
	var (
		chunks  []string
		cur     strings.Builder
		curLen  int
		inFence bool // at the end of cur
	)
	flush := func() {
		if curLen == 0 {
			return
		}
		c := cur.String()
		if inFence {
			c += fence
		}
		chunks = append(chunks, c)
		cur.Reset()
		curLen = 0
		if inFence {
			cur.WriteString(fence)
			curLen = len(fence)
		}
	}
	add := func(piece string) {
		cur.WriteString(piece)
		curLen += bot.UTF16Len(piece)
		if strings.Count(piece, fence)%2 == 1 {
			inFence = !inFence
		}
	}
	for i, line := range strings.Split(s, "\n") {
		sep := ""
		if i > 0 {
			sep = "\n"
		}
		if curLen+bot.UTF16Len(sep)+bot.UTF16Len(line) <= budget {
			if curLen == 0 || (inFence && cur.String() == fence) {
				sep = ""
			}
			add(sep + line)
			continue
		}
		flush()
		for bot.UTF16Len(line) > budget-curLen {
			k := safeCut(line, budget-curLen)
			if k == 0 { // nothing safe fits: cut at the rune boundary
				_, k = utf8.DecodeRuneInString(line)
			}
			add(line[:k])
			line = line[k:]
			flush()
		}
		if line != "" {
			add(line)
		}
	}
	flush()
	return chunks
}

// Relative describes t relative to now (kept for callers of this package).
func Relative(t, now time.Time) string { return bot.Relative(t, now) }
