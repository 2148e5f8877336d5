// Package text holds the text helpers every package shares, one of each: a
// duration format, a truncation and an edit distance (with or without
// swaps). It imports nothing of the module, so diagnostics, config,
// openclaw, scheduler and every chat surface can use it without a cycle.
package text

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Ellipsis ends a cut text.
const Ellipsis = "…"

// Truncate cuts s to at most n runes, the last of them Ellipsis when it
// cut. It never splits a rune.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	i, k := 0, 0
	for k < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		k++
	}
	return s[:i] + Ellipsis
}

// Duration writes d (negative: 0) in its one or two largest units, rounded
// to the smaller one: 45s, 4m, 2h5m, 47h, 3d2h. sep goes between the two
// units: "" in findings and alerts ("2h5m"), " " in chat's relative times
// ("in 2h 5m").
func Duration(d time.Duration, sep string) string {
	d = max(d, 0)
	two := func(big, small time.Duration, bu, su string) string {
		d = d.Round(small)
		b, s := int(d/big), int(d%big/small)
		if s == 0 {
			return fmt.Sprintf("%d%s", b, bu)
		}
		return fmt.Sprintf("%d%s%s%d%s", b, bu, sep, s, su)
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute)/time.Minute))
	case d < 48*time.Hour:
		return two(time.Hour, time.Minute, "h", "m")
	}
	return two(24*time.Hour, time.Hour, "d", "h")
}

// Relative writes t relative to now: "in 4m", "3h ago", "now" (within half
// a second); sep as for Duration.
func Relative(t, now time.Time, sep string) string {
	d := t.Sub(now)
	switch {
	case d > -time.Second/2 && d < time.Second/2:
		return "now"
	case d >= 0:
		return "in " + Duration(d, sep)
	}
	return Duration(-d, sep) + " ago"
}

// Levenshtein is the edit distance between a and b over runes: insertions,
// deletions and substitutions each count one ("statsu" is 2 from
// "status"). Anything above max is max+1; inputs whose lengths differ by
// more than max are not compared at all, so a long input costs little.
func Levenshtein(a, b string, max int) int { return editDistance(a, b, max, false) }

// OSA is Levenshtein where a swap of two neighbours also counts one
// (optimal string alignment: "mdoe" is 1 from "mode").
func OSA(a, b string, max int) int { return editDistance(a, b, max, true) }

func editDistance(a, b string, max int, swaps bool) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if swaps && i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(rb)], max+1)
}
