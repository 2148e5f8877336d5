package telegram

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/faketelegram"
)

func renderGolden(msg bot.Message, loc *time.Location) string {
	html, kb := Render(msg, loc, fixedNow)
	out := html + "\n"
	if kb != nil {
		js, _ := json.MarshalIndent(kb, "", "  ")
		out += "--- keyboard ---\n" + string(js) + "\n"
	}
	return out
}

// checkHTML asserts that s is what Telegram accepts: valid nesting, only
// supported tags and entities, ≤ 4096 UTF-16 units.
func checkHTML(t *testing.T, s string) string {
	t.Helper()
	if n := UTF16Len(s); n > MaxTextLen {
		t.Fatalf("rendered text is %d UTF-16 units > %d", n, MaxTextLen)
	}
	plain, err := faketelegram.ParseHTML(s)
	if err != nil {
		t.Fatalf("invalid Telegram HTML: %v\n%s", err, s)
	}
	return plain
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  bot.Message
		loc  *time.Location
	}{
		{"cooldown_berlin.html", cooldownAlert(), berlin(t)},
		{"cooldown_utc.html", cooldownAlert(), time.UTC},
		{"resolved_edit.html", resolvedEdit(), berlin(t)},
		{"reminder.html", reminder(), time.UTC},
		{"reply_code.html", replyWithCode(), time.UTC},
		{"hostile.html", hostile(), time.UTC},
		{"many_items.html", manyItems(200), time.UTC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := renderGolden(tc.msg, tc.loc)
			html, _ := Render(tc.msg, tc.loc, fixedNow)
			checkHTML(t, html)
			golden(t, tc.name, got)
		})
	}
}

func TestUntilInTimezone(t *testing.T) {
	html, _ := Render(cooldownAlert(), berlin(t), fixedNow)
	if !strings.Contains(html, "⏳ until 2026-11-25 14:04 CET (in 4m)") {
		t.Errorf("Berlin time missing:\n%s", html)
	}
	html, _ = Render(cooldownAlert(), nil, fixedNow)
	if !strings.Contains(html, "⏳ until 2026-11-25 13:04 UTC (in 4m)") {
		t.Errorf("UTC time missing:\n%s", html)
	}
}

func TestEscaping(t *testing.T) {
	html, kb := Render(hostile(), time.UTC, fixedNow)
	plain := checkHTML(t, html)
	// Every hostile string comes through literally as text, never as markup.
	if strings.Contains(html, "<a") || strings.Contains(html, "<b>&</b>") {
		t.Fatalf("hostile markup got through:\n%s", html)
	}
	if got := strings.Count(plain, hostileText); got < 10 {
		t.Errorf("hostile text shown %d times, want it in every field:\n%s", got, plain)
	}
	if strings.ContainsAny(html, "\x1b\x00") {
		t.Error("control characters not removed")
	}
	if !strings.Contains(plain, "&amp; &lt;") {
		t.Error("already-escaped looking text must be shown literally")
	}
	if kb == nil || len(kb.InlineKeyboard) != 1 || len(kb.InlineKeyboard[0]) != 1 {
		t.Fatalf("keyboard: want only the valid button, got %+v", kb)
	}
	if kb.InlineKeyboard[0][0].Text != hostileText {
		t.Errorf("button text is sent as-is (Telegram shows it as plain text): %q", kb.InlineKeyboard[0][0].Text)
	}
	if got := Escape(`<b>&</b> <a href="x">`); got != `&lt;b&gt;&amp;&lt;/b&gt; &lt;a href=&quot;x&quot;&gt;` {
		t.Errorf("Escape = %q", got)
	}
}

var moreRE = regexp.MustCompile(`…and (\d+) more`)

func TestTruncation200Items(t *testing.T) {
	msg := manyItems(200)
	html, _ := Render(msg, time.UTC, fixedNow)
	checkHTML(t, html)
	m := moreRE.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no '…and N more':\n%s", html)
	}
	more, _ := strconv.Atoi(m[1])
	shown := strings.Count(html, "is in cooldown</b>")
	if shown+more != 200 || shown == 0 {
		t.Errorf("shown %d + more %d != 200", shown, more)
	}
	if !strings.Contains(html, "target <") && !strings.Contains(html, "<i>target </i>") {
		t.Errorf("footer lost:\n%s", html[len(html)-200:])
	}
	if UTF16Len(html) < MaxTextLen-400 {
		t.Errorf("truncated too eagerly: %d units", UTF16Len(html))
	}
}

// randText returns text mixing markup characters, emoji (two UTF-16 units),
// multi-byte letters and newlines.
func randText(r *rand.Rand, maxLen int) string {
	alphabet := []string{"a", "b", "Z", " ", "<", ">", "&", `"`, "'", "é", "😀", "🔴", "\n", "&amp;", "<b>", "</i>", "ß", "中", "/", ":"}
	n := r.IntN(maxLen + 1)
	var b strings.Builder
	for range n {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func randSpans(r *rand.Rand, maxSpans, maxLen int) []bot.Span {
	var out []bot.Span
	for range r.IntN(maxSpans + 1) {
		sp := bot.Span{Text: randText(r, maxLen)}
		switch r.IntN(4) {
		case 0:
			sp.Bold = true
		case 1:
			sp.Code = true
		case 2:
			if r.IntN(3) == 0 {
				sp.Time = fixedNow.Add(time.Duration(r.IntN(100000)-50000) * time.Second)
			}
		}
		out = append(out, sp)
	}
	return out
}

func randMessage(r *rand.Rand) bot.Message {
	sevs := []bot.Severity{bot.SevCritical, bot.SevWarning, bot.SevInfo, bot.SevResolved}
	kinds := []bot.Kind{bot.KindAlert, bot.KindReminder, bot.KindResolved, bot.KindReply}
	m := bot.Message{
		Kind:     kinds[r.IntN(len(kinds))],
		Severity: sevs[r.IntN(len(sevs))],
		Title:    randText(r, 120),
		Text:     randSpans(r, 4, 300),
		Footer:   randSpans(r, 4, 60),
	}
	if r.IntN(20) == 0 { // sometimes a huge reply text
		m.Text = append(m.Text, bot.Span{Text: randText(r, 6000), Code: r.IntN(2) == 0})
	}
	for range r.IntN(120) {
		it := bot.Item{
			Code:     randText(r, 20),
			Severity: sevs[r.IntN(len(sevs))],
			Subject:  randText(r, 30),
			Title:    randText(r, 80),
			Details:  randSpans(r, 3, 100),
			Resolved: r.IntN(5) == 0,
		}
		if r.IntN(2) == 0 {
			it.Until = fixedNow.Add(time.Duration(r.IntN(7200)) * time.Second)
		}
		for range r.IntN(3) {
			it.Remedy = append(it.Remedy, randSpans(r, 2, 120))
		}
		if r.IntN(30) == 0 { // one giant item
			it.Details = append(it.Details, bot.T(randText(r, 5000)))
		}
		m.Items = append(m.Items, it)
	}
	return m
}

func TestRenderLimitProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 200
	if testing.Short() {
		n = 50
	}
	for i := range n {
		msg := randMessage(r)
		html, _ := Render(msg, time.UTC, fixedNow)
		if n := UTF16Len(html); n > MaxTextLen {
			t.Fatalf("case %d: %d UTF-16 units", i, n)
		}
		if _, err := faketelegram.ParseHTML(html); err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, html)
		}
		if m := moreRE.FindStringSubmatch(html); m != nil {
			more, _ := strconv.Atoi(m[1])
			if more < 1 || more > len(msg.Items) {
				t.Fatalf("case %d: more=%d of %d items", i, more, len(msg.Items))
			}
		}
	}
}

func TestTruncateHTMLProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 150 {
		html, _ := Render(randMessage(r), time.UTC, fixedNow)
		limit := 1 + r.IntN(UTF16Len(html)+10)
		got := TruncateHTML(html, max(limit, 40))
		if UTF16Len(got) > max(limit, 40) {
			t.Fatalf("case %d: %d > %d", i, UTF16Len(got), limit)
		}
		if _, err := faketelegram.ParseHTML(got); err != nil {
			t.Fatalf("case %d (limit %d): %v\n%s", i, limit, err, got)
		}
	}
	if got := TruncateHTML("<b>a&amp;b&amp;c</b>", 12); got != "<b>a…</b>" {
		t.Errorf("TruncateHTML = %q", got)
	}
}

func TestCallbackDataLimit(t *testing.T) {
	ok := strings.Repeat("a", MaxCallbackData)
	long := strings.Repeat("a", MaxCallbackData+1)
	msg := bot.Message{Title: "x", Buttons: []bot.Button{
		{Text: "Confirm", Action: ok},
		{Text: "Cancel", Action: long},
		{Text: "", Action: "a:1"},
		{Text: "Empty", Action: ""},
		{Text: "Bad", Action: "\xff"},
		{Text: "Multi", Action: strings.Repeat("é", 33)}, // 66 bytes
	}}
	err := Validate(msg)
	if err == nil || !errors.Is(err, ErrCallbackData) {
		t.Fatalf("Validate = %v", err)
	}
	if got := strings.Count(err.Error(), "\n") + 1; got != 5 {
		t.Errorf("want 5 problems, got %d: %v", got, err)
	}
	_, kb := Render(msg, nil, fixedNow)
	if kb == nil || len(kb.InlineKeyboard) != 1 || len(kb.InlineKeyboard[0]) != 1 || *kb.InlineKeyboard[0][0].CallbackData != ok {
		t.Fatalf("keyboard = %+v", kb)
	}
	if Validate(replyWithCode()) != nil {
		t.Error("Confirm/Cancel must validate")
	}
	_, kb = Render(replyWithCode(), nil, fixedNow)
	if kb == nil || kb.InlineKeyboard[0][0].Text != "Confirm" || kb.InlineKeyboard[0][1].Text != "Cancel" {
		t.Errorf("Confirm/Cancel texts: %+v", kb)
	}
	if _, kb := Render(bot.Message{Title: "x"}, nil, fixedNow); kb != nil {
		t.Error("no buttons: nil keyboard")
	}
	if kb := Keyboard([]bot.Button{{Text: "Only bad", Action: long}}); kb != nil {
		t.Error("only invalid buttons: nil keyboard")
	}
	kb = Keyboard([]bot.Button{{Text: "1", Action: "1"}, {Text: "2", Action: "2"}, {Text: "3", Action: "3"}, {Text: "4", Action: "4"}})
	if len(kb.InlineKeyboard) != 2 || len(kb.InlineKeyboard[0]) != ButtonsPerRow {
		t.Errorf("rows: %+v", kb.InlineKeyboard)
	}
}
