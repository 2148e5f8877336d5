package text

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 3, "abc"}, {"abcd", 3, "ab…"}, {"", 0, ""}, {"abc", 0, ""}, {"abc", 1, "…"},
		{"héllo wörld", 5, "héll…"}, {"😀😀😀", 2, "😀…"}, {"日本語テキスト", 7, "日本語テキスト"},
	} {
		if got := Truncate(tc.s, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
	long := strings.Repeat("é", 1000)
	for n := 1; n < 20; n++ {
		got := Truncate(long, n)
		if utf8.RuneCountInString(got) != n || !utf8.ValidString(got) || !strings.HasSuffix(got, Ellipsis) {
			t.Errorf("Truncate(long, %d) = %q", n, got)
		}
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		sep  string
		want string
	}{
		// Findings (diagnostics) and alerts (scheduler): compact.
		{30 * time.Second, "", "30s"}, {4*time.Minute + 20*time.Second, "", "4m"},
		{time.Hour + 59*time.Minute + 40*time.Second, "", "2h"}, {2*time.Hour + 5*time.Minute, "", "2h5m"},
		{72 * time.Hour, "", "3d"}, {-time.Second, "", "0s"}, {45 * time.Second, "", "45s"}, {12 * time.Minute, "", "12m"},
		{4 * time.Hour, "", "4h"}, {4*time.Hour + 30*time.Minute, "", "4h30m"}, {47 * time.Hour, "", "47h"},
		{50 * time.Hour, "", "2d2h"},
		// Chat's relative times: spaced.
		{3*time.Hour + 25*time.Minute, " ", "3h 25m"}, {2 * time.Hour, " ", "2h"}, {50 * time.Hour, " ", "2d 2h"},
		{time.Hour + 59*time.Minute + 50*time.Second, " ", "2h"}, {29 * time.Second, " ", "29s"},
	} {
		if got := Duration(tc.d, tc.sep); got != tc.want {
			t.Errorf("Duration(%v, %q) = %q, want %q", tc.d, tc.sep, got, tc.want)
		}
	}
}

func TestRelative(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		d    time.Duration
		sep  string
		want string
	}{
		{0, "", "now"}, {time.Second / 4, " ", "now"}, {4 * time.Minute, "", "in 4m"}, {-3 * time.Hour, "", "3h ago"},
		{-(2*time.Hour + 5*time.Minute), "", "2h5m ago"}, {2*time.Hour + 5*time.Minute, " ", "in 2h 5m"}, {-48 * time.Hour, " ", "2d ago"},
	} {
		if got := Relative(now.Add(tc.d), now, tc.sep); got != tc.want {
			t.Errorf("Relative(%v, %q) = %q, want %q", tc.d, tc.sep, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b     string
		lev, osa int
	}{
		{"", "", 0, 0}, {"status", "status", 0, 0}, {"statsu", "status", 2, 1}, {"kitten", "sitting", 3, 3},
		{"", "abc", 3, 3}, {"é", "e", 1, 1}, {"bot_tokn", "bot_token", 1, 1}, {"base_rul", "base_url", 2, 1},
		{"alert-chat", "alert_chat", 1, 1}, {"mdoe", "mode", 2, 1}, {"abc", "xyz", 3, 3}, {"", "ab", 2, 2},
	} {
		if got := Levenshtein(tc.a, tc.b, 5); got != tc.lev {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.lev)
		}
		if got := OSA(tc.a, tc.b, 5); got != tc.osa {
			t.Errorf("OSA(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.osa)
		}
	}
	// Above max is max+1, however far: a long input is not even compared.
	if got := Levenshtein("kitten", "sitting", 2); got != 3 {
		t.Errorf("capped Levenshtein = %d, want 3", got)
	}
	if got := OSA(strings.Repeat("x", 1<<20), "status", 2); got != 3 {
		t.Errorf("long OSA = %d, want 3", got)
	}
}
