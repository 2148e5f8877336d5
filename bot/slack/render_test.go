package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	goslack "github.com/slack-go/slack"

	"github.com/openclaw-bot/openclaw-bot/bot"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json")

// fixedNow is the clock of every golden message.
var fixedNow = time.Date(2026, 11, 25, 12, 56, 0, 0, time.UTC)

func cooldownAlert() bot.Message {
	return bot.Message{
		Kind:     bot.KindAlert,
		Severity: bot.SevCritical,
		Target:   "local",
		Title:    "Anthropic is down on local",
		Items: []bot.Item{
			{
				Code:     "cooldown.active",
				Severity: bot.SevCritical,
				Subject:  "anthropic:default",
				Title:    "Profile is in cooldown (rate_limit)",
				Details:  bot.Line(bot.T("3 errors in a row, last "), bot.C("429 rate_limit_error"), bot.T(". No other Anthropic profile can take over.")),
				Until:    fixedNow.Add(4 * time.Minute),
				Remedy: [][]bot.Span{
					bot.Line(bot.T("Wait, or reset it: "), bot.C("/openclaw cooldown reset anthropic:default")),
					bot.Line(bot.T("Add a second key for failover:")),
					bot.Line(bot.C("openclaw models auth login --provider anthropic --profile anthropic:backup --method api-key")),
				},
			},
			{
				Code:     "env.shadowed",
				Severity: bot.SevWarning,
				Subject:  "ANTHROPIC_API_KEY",
				Title:    "Environment key shadows the stored profile",
				Details:  bot.Line(bot.T("sk-ant-a...XanXJBAA from the gateway's environment wins over the store")),
			},
		},
		Buttons: []bot.Button{
			{Text: "Reset cooldown", Action: "a1b2c3", Style: "danger"},
			{Text: "Re-check", Action: "d4e5f6", Style: "primary"},
			{Text: "Silence 1h", Action: "g7h8i9"},
		},
		Footer: bot.Line(bot.T("target "), bot.B("local"), bot.T(" · state dir "), bot.C("~/.openclaw")),
		Ref:    "alert:local:g1",
	}
}

func resolvedEdit() bot.Message {
	return bot.Message{
		Kind:     bot.KindResolved,
		Severity: bot.SevResolved,
		Target:   "local",
		Title:    "Anthropic is back on local",
		Items: []bot.Item{
			{Code: "cooldown.active", Severity: bot.SevCritical, Subject: "anthropic:default",
				Title: "Profile is in cooldown (rate_limit)", Resolved: true,
				Details: bot.Line(bot.T("cooldown ended")),
				Until:   fixedNow.Add(-time.Minute),
				Remedy:  [][]bot.Span{bot.Line(bot.C("/openclaw cooldown reset anthropic:default"))}},
		},
		Footer: bot.Line(bot.T("resolved after 12m · target local")),
		Ref:    "alert:local:g1",
	}
}

func reminder() bot.Message {
	return bot.Message{
		Kind:     bot.KindReminder,
		Severity: bot.SevWarning,
		Title:    "Still firing on prod for 2h",
		Items: []bot.Item{
			{Code: "credential.expiring", Severity: bot.SevWarning, Subject: "anthropic:oauth",
				Title:   "OAuth login expires soon",
				Details: bot.Line(bot.T("expires "), bot.At(fixedNow.Add(26*time.Hour+30*time.Minute))),
				Until:   fixedNow.Add(26*time.Hour + 30*time.Minute),
				Remedy:  [][]bot.Span{bot.Line(bot.T("Log in again: "), bot.C("openclaw models auth login"))}},
		},
		Buttons: []bot.Button{{Text: "Silence 1h", Action: "s1"}},
		Footer:  bot.Line(bot.T("reminder 2 of ∞ · target prod")),
		Ref:     "alert:prod:g7",
	}
}

func replyWithCode() bot.Message {
	return bot.Message{
		Kind:     bot.KindReply,
		Severity: bot.SevInfo,
		Title:    "Reset cooldown of anthropic:default on local?",
		Text: bot.Line(
			bot.T("This will run:\n"),
			bot.C("openclaw models auth cooldown clear --profile anthropic:default\nopenclaw gateway restart"),
			bot.T("\nA backup is taken first; undo with "), bot.C("/openclaw undo <audit id>"),
			bot.T(".\nRequested at "), bot.At(fixedNow), bot.T("."),
		),
		Buttons: []bot.Button{
			{Text: "Confirm", Action: "p-confirm-42", Style: "primary"},
			{Text: "Cancel", Action: "p-cancel-42"},
		},
		Footer: bot.Line(bot.T("valid 2 minutes, for "), bot.B("U0ALICE"), bot.T(" only")),
	}
}

const hostile = "<!channel> <@U123> &"

func hostileMessage() bot.Message {
	return bot.Message{
		Kind:     bot.KindAlert,
		Severity: bot.SevCritical,
		Target:   hostile,
		Title:    "Title " + hostile,
		Items: []bot.Item{{
			Code: "x", Severity: bot.SevCritical, Subject: hostile, Title: "Item " + hostile,
			Details: bot.Line(bot.T(hostile+" <https://evil.example|click> "), bot.B(hostile), bot.T(" "),
				bot.C(hostile), bot.T(" "), bot.Span{Text: hostile, Time: fixedNow}),
			Until:  fixedNow.Add(time.Hour),
			Remedy: [][]bot.Span{bot.Line(bot.C(hostile)), bot.Line(bot.C(strings.Repeat(hostile+" ", 5)))},
		}},
		Text:    bot.Line(bot.T(hostile+"\n"), bot.C(hostile+"\n"+hostile)),
		Buttons: []bot.Button{{Text: "Confirm", Action: "c1", Style: "primary"}},
		Footer:  bot.Line(bot.T(hostile), bot.C(hostile)),
		Ref:     hostile,
	}
}

var goldenCases = []struct {
	name string
	msg  func() bot.Message
}{
	{"cooldown_alert", cooldownAlert},
	{"resolved_edit", resolvedEdit},
	{"reminder", reminder},
	{"reply_code", replyWithCode},
	{"hostile", hostileMessage},
}

func renderJSON(t *testing.T, msg bot.Message) []byte {
	t.Helper()
	text, blocks := RenderAt(msg, fixedNow)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Text   string          `json:"text"`
		Blocks []goslack.Block `json:"blocks"`
	}{text, blocks}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			got := renderJSON(t, tc.msg())
			path := filepath.Join("testdata", "golden", tc.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./bot/slack -run TestGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (rerun with -update if intended)\n--- got ---\n%s", path, got)
			}
			// The golden JSON must decode as Block Kit and pass slack-go's checks.
			var decoded struct {
				Text   string         `json:"text"`
				Blocks goslack.Blocks `json:"blocks"`
			}
			if err := json.Unmarshal(got, &decoded); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if len(decoded.Blocks.BlockSet) == 0 {
				t.Fatal("no blocks")
			}
			for _, b := range decoded.Blocks.BlockSet {
				if v, ok := b.(interface{ Validate() error }); ok {
					if err := v.Validate(); err != nil {
						t.Errorf("block %s invalid: %v", b.BlockType(), err)
					}
				}
			}
		})
	}
}

func TestCooldownAlertContent(t *testing.T) {
	text, blocks := RenderAt(cooldownAlert(), fixedNow)
	if !strings.HasPrefix(text, "🔴 Anthropic is down on local") {
		t.Errorf("fallback text = %q", text)
	}
	item := sectionText(t, blocks[1])
	for _, want := range []string{
		"🔴 *Profile is in cooldown (rate_limit)* · `anthropic:default`",
		fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|2026-11-25 13:00 UTC> (in 4m)", fixedNow.Add(4*time.Minute).Unix()),
		"`/openclaw cooldown reset anthropic:default`",
		"```openclaw models auth login --provider anthropic --profile anthropic:backup --method api-key```",
	} {
		if !strings.Contains(item, want) {
			t.Errorf("item section lacks %q:\n%s", want, item)
		}
	}
	if !strings.Contains(sectionText(t, blocks[2]), "🟠 *Environment key") {
		t.Errorf("second item: %s", sectionText(t, blocks[2]))
	}
	ctx, ok := blocks[3].(*goslack.ContextBlock)
	if !ok {
		t.Fatalf("block 3 is %T, want context", blocks[3])
	}
	if got := ctx.ContextElements.Elements[0].(*goslack.TextBlockObject).Text; got != "target *local* · state dir `~/.openclaw`" {
		t.Errorf("footer = %q", got)
	}
	ab := blocks[4].(*goslack.ActionBlock)
	if ab.BlockID != ActionsBlockID || len(ab.Elements.ElementSet) != 3 {
		t.Fatalf("actions block: %+v", ab)
	}
}

func TestPreviewButtons(t *testing.T) {
	_, blocks := RenderAt(replyWithCode(), fixedNow)
	ab, ok := blocks[len(blocks)-1].(*goslack.ActionBlock)
	if !ok {
		t.Fatalf("last block is %T", blocks[len(blocks)-1])
	}
	want := []struct {
		text, action string
		style        goslack.Style
	}{
		{"Confirm", "p-confirm-42", goslack.StylePrimary},
		{"Cancel", "p-cancel-42", ""},
	}
	for i, w := range want {
		b := ab.Elements.ElementSet[i].(*goslack.ButtonBlockElement)
		if b.Text.Type != goslack.PlainTextType || b.Text.Text != w.text || b.ActionID != w.action || b.Value != w.action || b.Style != w.style {
			t.Errorf("button %d = %+v text=%+v, want %+v", i, b, b.Text, w)
		}
	}
}

func TestResolvedStruckThrough(t *testing.T) {
	text, blocks := RenderAt(resolvedEdit(), fixedNow)
	if !strings.HasPrefix(text, "✅ Anthropic is back") || !strings.Contains(text, "• ✅ Profile") {
		t.Errorf("fallback = %q", text)
	}
	s := sectionText(t, blocks[1])
	if !strings.HasPrefix(s, "✅ ~Profile is in cooldown (rate_limit)~") {
		t.Errorf("resolved item = %q", s)
	}
	if strings.Contains(s, "<!date^") || strings.Contains(s, "Fix") {
		t.Errorf("resolved item still shows until/remedy: %q", s)
	}
	// An item marked resolved inside an ordinary alert (a partial edit).
	m := cooldownAlert()
	m.Items[1].Resolved = true
	_, blocks = RenderAt(m, fixedNow)
	if s := sectionText(t, blocks[2]); !strings.HasPrefix(s, "✅ ~Environment key shadows the stored profile~") {
		t.Errorf("partially resolved item = %q", s)
	}
}

func TestRelative(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{4 * time.Minute, "in 4m"},
		{4*time.Minute + 20*time.Second, "in 4m"},
		{45 * time.Second, "in 45s"},
		{0, "now"},
		{2*time.Hour + 5*time.Minute, "in 2h 5m"},
		{3 * time.Hour, "in 3h"},
		{72 * time.Hour, "in 3d"},
		{-3 * time.Minute, "3m ago"},
	} {
		if got := Relative(fixedNow.Add(tc.d), fixedNow); got != tc.want {
			t.Errorf("Relative(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// allTexts returns every "text" string of a rendered message: the fallback
// and every text object in the blocks JSON.
func allTexts(t *testing.T, text string, blocks []goslack.Block) []string {
	t.Helper()
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	out := []string{text}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				out = append(out, s)
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(tree)
	return out
}

var (
	entityRe    = regexp.MustCompile(`&(amp|lt|gt);`)
	ourTokenRe  = regexp.MustCompile(`<!date\^[0-9]+\^\{date_short_pretty\} \{time\}\|[^<>]*>`)
	partialEnts = regexp.MustCompile(`&(a|am|amp|l|lt|g|gt)?$`)
)

// assertSafeMrkdwn fails when s has a "<" that is not one of our date tokens
// or a bare "&".
func assertSafeMrkdwn(t *testing.T, s string) {
	t.Helper()
	rest := ourTokenRe.ReplaceAllString(s, "")
	if strings.ContainsAny(rest, "<>") {
		t.Errorf("unescaped < or > in %q", s)
	}
	if strings.Count(entityRe.ReplaceAllString(rest, ""), "&") != 0 {
		t.Errorf("bare & in %q", s)
	}
}

func TestEscaping(t *testing.T) {
	if got := Escape("a & <b> <!channel>"); got != "a &amp; &lt;b&gt; &lt;!channel&gt;" {
		t.Errorf("Escape = %q", got)
	}
	text, blocks := RenderAt(hostileMessage(), fixedNow)
	texts := allTexts(t, text, blocks)
	mrkdwn := 0
	for _, s := range texts {
		if s == "Confirm" { // plain_text button label: never parsed
			continue
		}
		mrkdwn++
		for _, bad := range []string{"<!channel>", "<@U123>", "<https://", "|click>"} {
			if strings.Contains(s, bad) {
				t.Errorf("hostile %q survived in %q", bad, s)
			}
		}
		assertSafeMrkdwn(t, s)
	}
	if mrkdwn < 5 {
		t.Fatalf("only %d texts checked", mrkdwn)
	}
	if !strings.Contains(text, "&lt;!channel&gt; &lt;@U123&gt; &amp;") {
		t.Errorf("fallback text not escaped as expected: %q", text)
	}
	// All mrkdwn objects are verbatim: Slack does not auto-link names.
	raw, _ := json.Marshal(blocks)
	if strings.Count(string(raw), `"type":"mrkdwn"`) != strings.Count(string(raw), `"verbatim":true`) {
		t.Errorf("some mrkdwn text is not verbatim: %s", raw)
	}
}

func TestLimitsManyItems(t *testing.T) {
	m := cooldownAlert()
	m.Items = nil
	for i := range 120 {
		m.Items = append(m.Items, bot.Item{Severity: bot.SevWarning, Title: fmt.Sprintf("finding %d", i)})
	}
	m.Text = bot.Line(bot.T("trailing text"))
	text, blocks := RenderAt(m, fixedNow)
	if len(blocks) != MaxBlocks {
		t.Fatalf("%d blocks, want %d", len(blocks), MaxBlocks)
	}
	// title + 46 items + "more" + footer + actions
	if got := sectionText(t, blocks[len(blocks)-3]); got != "_…and 74 more (output truncated)_" {
		t.Errorf("more section = %q", got)
	}
	if _, ok := blocks[len(blocks)-2].(*goslack.ContextBlock); !ok {
		t.Errorf("footer not kept")
	}
	if _, ok := blocks[len(blocks)-1].(*goslack.ActionBlock); !ok {
		t.Errorf("buttons not kept")
	}
	if bot.UTF16Len(text) > MaxFallbackText {
		t.Errorf("fallback %d units", bot.UTF16Len(text))
	}

	m.Text = nil
	m.Items = m.Items[:60]
	_, blocks = RenderAt(m, fixedNow)
	if got := sectionText(t, blocks[len(blocks)-3]); got != "_…and 14 more_" || len(blocks) != MaxBlocks {
		t.Errorf("%d blocks, more = %q", len(blocks), got)
	}
}

func TestLimitsLongText(t *testing.T) {
	long := strings.Repeat("x&y<z> ", 1000) // 7000 chars before escaping
	m := bot.Message{Kind: bot.KindAlert, Severity: bot.SevCritical, Title: long,
		Items:  []bot.Item{{Severity: bot.SevCritical, Title: "t", Details: bot.Line(bot.T(long))}},
		Footer: bot.Line(bot.T(long))}
	for i := range 60 {
		m.Items = append(m.Items, bot.Item{Severity: bot.SevInfo, Title: fmt.Sprintf("%d %s", i, long)})
	}
	text, blocks := RenderAt(m, fixedNow)
	if bot.UTF16Len(text) > MaxFallbackText || !strings.HasSuffix(text, "…") {
		t.Errorf("fallback: %d units, suffix %q", bot.UTF16Len(text), text[len(text)-10:])
	}
	if len(blocks) > MaxBlocks {
		t.Errorf("%d blocks", len(blocks))
	}
	for _, s := range allTexts(t, "", blocks)[1:] {
		if bot.UTF16Len(s) > MaxSectionText {
			t.Errorf("text of %d units", bot.UTF16Len(s))
		}
		if partialEnts.MatchString(strings.TrimSuffix(strings.TrimSuffix(s, "…"), "…```")) {
			t.Errorf("truncation split an entity: …%q", s[len(s)-12:])
		}
		assertSafeMrkdwn(t, s)
	}
	if s := sectionText(t, blocks[1]); !strings.HasSuffix(s, "…") {
		t.Errorf("long item not marked as truncated: …%q", s[len(s)-10:])
	}
}

func TestTruncateKeepsTokensAndFences(t *testing.T) {
	tok := DateToken(fixedNow, "fallback")
	s := strings.Repeat("a", 2990) + tok + strings.Repeat("b", 100)
	got := truncate(s, MaxSectionText)
	if strings.Contains(got, "<!date") {
		t.Errorf("date token cut: …%q", got[len(got)-30:])
	}
	got = truncate("```"+strings.Repeat("c", 5000)+"```", MaxSectionText)
	if !strings.HasSuffix(got, "…```") || bot.UTF16Len(got) > MaxSectionText {
		t.Errorf("open fence not closed: …%q (%d)", got[len(got)-10:], bot.UTF16Len(got))
	}
	emoji := strings.Repeat("🔴", 2000) // 4000 UTF-16 units
	if got := truncate(emoji, MaxSectionText); bot.UTF16Len(got) > MaxSectionText {
		t.Errorf("emoji text %d units", bot.UTF16Len(got))
	}
}

func TestLongReplySplitsIntoSections(t *testing.T) {
	var lines []string
	for i := range 400 {
		lines = append(lines, fmt.Sprintf("line %03d: anthropic:default & <ok>", i))
	}
	m := bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo, Title: "diagnose",
		Text: bot.Line(bot.T("Report:\n"), bot.C(strings.Join(lines, "\n")), bot.T("\nend"))}
	_, blocks := RenderAt(m, fixedNow)
	if len(blocks) < 5 {
		t.Fatalf("only %d blocks", len(blocks))
	}
	var joined strings.Builder
	for i, b := range blocks[1:] {
		s := sectionText(t, b)
		if bot.UTF16Len(s) > MaxSectionText {
			t.Errorf("section %d: %d units", i, bot.UTF16Len(s))
		}
		if strings.Count(s, "```")%2 != 0 {
			t.Errorf("section %d has an unbalanced fence", i)
		}
		assertSafeMrkdwn(t, s)
		joined.WriteString(s)
	}
	for _, want := range []string{"line 000", "line 399", "\nend"} {
		if !strings.Contains(joined.String(), want) {
			t.Errorf("content lost: %q", want)
		}
	}
}

func sectionText(t *testing.T, b goslack.Block) string {
	t.Helper()
	s, ok := b.(*goslack.SectionBlock)
	if !ok {
		t.Fatalf("block is %T, want section", b)
	}
	return s.Text.Text
}
