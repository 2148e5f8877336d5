package bot

import (
	"strings"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/text"
)

// Relative describes t relative to now the same way on every surface:
// "in 45s", "in 4m", "in 2h 5m", "3d 2h ago", "now".
func Relative(t, now time.Time) string { return text.Relative(t, now, " ") }

// UTF16Len is the length of s in UTF-16 code units: the unit of Slack's
// and Telegram's text limits.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// SeverityOf maps a finding's severity ("critical", "warning", "info"; also
// OpenClaw's "error") to a message severity.
func SeverityOf(s string) Severity {
	switch s {
	case "critical", "error":
		return SevCritical
	case "warning":
		return SevWarning
	}
	return SevInfo
}

// CleanText makes s valid UTF-8, normalises CR LF and drops control
// characters other than newline and tab, so nothing in a message can drive a
// terminal or break a platform's markup.
func CleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}
