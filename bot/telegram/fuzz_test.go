package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// fuzzBotName is the bot's @username in FuzzUpdate (the fake getMe's).
const fuzzBotName = "thebot"

// fuzzMaxBody is the webhook body limit in FuzzUpdate, small enough for
// the fuzzer to reach the 413 path.
const fuzzMaxBody = 8192

// fuzzAPI answers every Bot API call at once from memory and records it:
// FuzzUpdate never touches the network.
type fuzzAPI struct {
	mu    sync.Mutex
	calls []fuzzCall
}

type fuzzCall struct {
	method string
	params url.Values
	raw    string
}

func (a *fuzzAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	var b []byte
	if r.Body != nil {
		b, _ = io.ReadAll(r.Body)
		_ = r.Body.Close()
	}
	method := path.Base(r.URL.Path)
	params, _ := url.ParseQuery(string(b))
	a.mu.Lock()
	a.calls = append(a.calls, fuzzCall{method: method, params: params, raw: string(b)})
	a.mu.Unlock()
	var result string
	switch method {
	case "getMe":
		result = `{"id":1,"is_bot":true,"first_name":"Bot","username":"` + fuzzBotName + `"}`
	case "sendMessage", "editMessageText":
		result = `{"message_id":7,"date":0,"chat":{"id":1,"type":"private"},"text":"x"}`
	default:
		result = `true`
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"ok":true,"result":` + result + `}`)), Request: r}, nil
}

func (a *fuzzAPI) list() []fuzzCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]fuzzCall(nil), a.calls...)
}

// fuzzReply and fuzzPressReply are FuzzUpdate's handler answers: echoes,
// ephemeral for odd lengths and without a message for some presses, to
// reach the private-answer and toast-only paths.
func fuzzReply(_ context.Context, r bot.Request) bot.Reply {
	return bot.Reply{Ephemeral: len(r.Text)%2 == 1, Message: bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo,
		Title: "you said " + r.Text, Text: []bot.Span{bot.C(r.Text)}}}
}

func fuzzPressReply(_ context.Context, p bot.Press) bot.Reply {
	r := bot.Reply{Toast: "pressed " + p.Action, Ephemeral: len(p.Action)%2 == 1}
	if len(p.Action)%3 != 0 {
		r.Message = bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo, Title: "pressed " + p.Action}
	}
	return r
}

// expectUpdate is the specification of the webhook for a decoded update:
// the command request or button press it must give the bot.Handler, if
// any. Only a message or a callback query is ever handled (edited
// messages, channel posts and the rest are ignored); a message only from a
// human sender, with a chat, whose text is a command for this bot: a known
// command, one addressed to @thebot, or any valid command in a private
// chat. A callback query needs a sender, an id and data.
func expectUpdate(u *tgbotapi.Update) (*bot.Request, *bot.Press) {
	name := func(u *tgbotapi.User) string {
		if u.UserName != "" {
			return u.UserName
		}
		return u.FirstName
	}
	switch {
	case u.Message != nil:
		m := u.Message
		if m.From == nil || m.From.IsBot || m.Chat == nil {
			return nil, nil
		}
		private := m.Chat.Type == "private"
		g, ok := ParseCommand(m.Text, fuzzBotName, testMenu)
		if !ok && private {
			// Unknown commands are answered ("unknown command") in a
			// private chat: parse it as if addressed to us.
			tok, rest := m.Text, ""
			if i := strings.IndexFunc(m.Text, unicode.IsSpace); i >= 0 {
				tok, rest = m.Text[:i], m.Text[i:]
			}
			if !strings.Contains(tok, "@") {
				g, ok = ParseCommand(tok+"@"+fuzzBotName+rest, fuzzBotName, testMenu)
			}
		}
		if !ok {
			return nil, nil
		}
		return &bot.Request{Surface: bot.SurfaceTelegram, UserID: strconv.FormatInt(m.From.ID, 10), UserName: name(m.From),
			Where: strconv.FormatInt(m.Chat.ID, 10), Private: private, Text: g}, nil
	case u.CallbackQuery != nil:
		cq := u.CallbackQuery
		if cq.From == nil || cq.ID == "" || cq.Data == "" {
			return nil, nil
		}
		p := &bot.Press{Surface: bot.SurfaceTelegram, UserID: strconv.FormatInt(cq.From.ID, 10), UserName: name(cq.From),
			Action: cq.Data}
		if cq.Message != nil && cq.Message.Chat != nil {
			p.Where = strconv.FormatInt(cq.Message.Chat.ID, 10)
			p.Private = cq.Message.Chat.Type == "private"
		}
		return nil, p
	}
	return nil, nil
}

// FuzzUpdate posts arbitrary bytes as an update to the real webhook
// handler (its Bot API client answers from memory) and checks:
//
//   - nothing panics, in the handler or in the work it starts;
//   - a request without the right secret token is refused (401) and
//     reaches nothing;
//   - with the right token, a body that is not a JSON update gets 400, one
//     over MaxBody 413 (or, when the first JSON value ends before the
//     limit, the answer for that value), an update 200;
//   - an update reaches the bot.Handler exactly as expectUpdate says: a
//     non-command, an unknown command in a group, a command for another
//     bot, an edited message, a channel post, a message from a bot never
//     does; a command becomes the Request with the chat grammar, a
//     callback query with data the Press;
//   - a redelivered update (same update_id) is answered 200 and not
//     handled again;
//   - neither the bot token nor the webhook secret appears in a response,
//     a log line or a parameter of any Bot API call (replies, toasts).
func FuzzUpdate(f *testing.F) {
	f.Add([]byte(commandUpdate(1, aliceChat, "/openclaw status")))
	f.Add([]byte(`{"update_id":2,"callback_query":{"id":"cb1","from":{"id":999,"first_name":"A"},"data":"a:1",` +
		`"message":{"message_id":3,"date":0,"chat":{"id":-100,"type":"supergroup"}}}}`))
	f.Add([]byte(`{"update_id":3,"edited_message":{"message_id":1,"date":0,"chat":{"id":1,"type":"private"},` +
		`"from":{"id":1,"first_name":"A"},"text":"/status"}}`))

	rec := &fuzzAPI{}
	base, err := NewAPI(redact.Secret(testToken), "http://127.0.0.1:1", &http.Client{Transport: rec})
	if err != nil {
		f.Fatal(err)
	}
	if base.Self.UserName != fuzzBotName {
		f.Fatalf("getMe: %+v", base.Self)
	}
	secrets := []string{testToken, hookSecret}

	f.Fuzz(func(t *testing.T, body []byte) {
		calls := &fuzzAPI{}
		api := *base
		api.Client = &http.Client{Transport: calls}
		h := &recHandler{handle: fuzzReply, press: fuzzPressReply}
		logs := &syncWriter{w: &bytes.Buffer{}}
		wh := NewWebhookHandler(&api, h, fastOpts(InboundOptions{WebhookSecret: hookSecret, MaxBody: fuzzMaxBody}, logs))
		post := func(secret string) *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodPost, WebhookPath, bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set(SecretHeader, secret)
			w := httptest.NewRecorder()
			wh.ServeHTTP(w, r)
			for _, s := range secrets {
				if strings.Contains(w.Body.String(), s) {
					t.Fatalf("response %d shows %q: %q", w.Code, s, w.Body.String())
				}
			}
			return w
		}

		if w := post(hookSecret + "x"); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong secret token: HTTP %d", w.Code)
		}
		w := post(hookSecret)
		var u tgbotapi.Update
		decErr := json.NewDecoder(bytes.NewReader(body)).Decode(&u)
		decoded := false
		switch w.Code {
		case http.StatusOK:
			if decErr != nil {
				t.Fatalf("HTTP 200 for a body that is no update (%v)", decErr)
			}
			decoded = true
		case http.StatusBadRequest:
			if decErr == nil && len(body) <= fuzzMaxBody {
				t.Fatalf("HTTP 400 for an update")
			}
		case http.StatusRequestEntityTooLarge:
			if len(body) <= fuzzMaxBody {
				t.Fatalf("HTTP 413 for %d bytes", len(body))
			}
		default:
			t.Fatalf("HTTP %d %q", w.Code, w.Body.String())
		}
		if decoded {
			if w := post(hookSecret); w.Code != http.StatusOK {
				t.Fatalf("redelivery: HTTP %d", w.Code)
			}
		}
		if err := wh.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}

		var wantReq *bot.Request
		var wantPress *bot.Press
		if decoded {
			wantReq, wantPress = expectUpdate(&u)
		}
		reqs, presses := h.Requests(), h.Presses()
		switch {
		case wantReq != nil:
			if len(reqs) != 1 || len(presses) != 0 || reqs[0] != *wantReq {
				t.Fatalf("handler got %+v / %+v, want the request %+v", reqs, presses, *wantReq)
			}
			if !strings.HasPrefix(u.Message.Text, "/") || reqs[0].Text == "" ||
				reqs[0].Text != strings.Join(strings.Fields(reqs[0].Text), " ") {
				t.Fatalf("command %q → grammar %q", u.Message.Text, reqs[0].Text)
			}
		case wantPress != nil:
			if len(presses) != 1 || len(reqs) != 0 || presses[0] != *wantPress {
				t.Fatalf("handler got %+v / %+v, want the press %+v", reqs, presses, *wantPress)
			}
		default:
			if len(reqs)+len(presses) != 0 {
				t.Fatalf("update not for the handler reached it: %+v / %+v", reqs, presses)
			}
		}

		log := logText(logs)
		for _, s := range secrets {
			if strings.Contains(log, s) {
				t.Fatalf("the log shows %q", s)
			}
		}
		for _, c := range calls.list() {
			for _, s := range secrets {
				for k, vs := range c.params {
					for _, v := range vs {
						if strings.Contains(v, s) {
							t.Fatalf("%s %s=%q shows %q", c.method, k, v, s)
						}
					}
				}
			}
			if c.method != "sendMessage" && c.method != "editMessageText" && c.method != "answerCallbackQuery" {
				t.Fatalf("unexpected Bot API call %s", c.method)
			}
		}
		if wantReq != nil && len(calls.list()) == 0 {
			t.Fatal("a handled command was not answered")
		}
	})
}
