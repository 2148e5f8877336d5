package bot

import (
	"fmt"
	"strings"
	"time"
)

// Relative describes t relative to now the same way on every surface:
// "in 45s", "in 4m", "in 2h 5m", "3d 2h ago", "now".
func Relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d > -time.Second/2 && d < time.Second/2:
		return "now"
	case d >= 0:
		return "in " + ShortDuration(d)
	default:
		return ShortDuration(-d) + " ago"
	}
}

// ShortDuration writes d compactly: 45s, 4m, 2h 5m, 3d 2h.
func ShortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute)/time.Minute))
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	default:
		d = d.Round(time.Hour)
		days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd %dh", days, h)
	}
}

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
