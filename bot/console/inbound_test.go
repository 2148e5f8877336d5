package console

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
)

type recHandler struct {
	mu      sync.Mutex
	reqs    []bot.Request
	presses []bot.Press
}

func (h *recHandler) Handle(_ context.Context, r bot.Request) bot.Reply {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reqs = append(h.reqs, r)
	m := bot.Message{Kind: bot.KindReply, Title: "got " + r.Text}
	if strings.HasPrefix(r.Text, "cooldown reset") {
		m.Buttons = []bot.Button{{Text: "Confirm", Action: "ok:abc"}, {Text: "Cancel", Action: "no:abc"}}
	}
	return bot.Reply{Message: m}
}

func (h *recHandler) Press(_ context.Context, p bot.Press) bot.Reply {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.presses = append(h.presses, p)
	return bot.Reply{Message: bot.Message{Kind: bot.KindReply, Title: "pressed " + p.Action}}
}

func TestSession(t *testing.T) {
	h := &recHandler{}
	var out bytes.Buffer
	s := &Session{Handler: h, Out: &out, Location: time.UTC}
	in := "status\n/openclaw diagnose prod\n/cooldown reset anthropic:default\nCONFIRM\n\n"
	if err := s.Run(context.Background(), strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, r := range h.reqs {
		texts = append(texts, r.Text)
		if r.Surface != bot.SurfaceConsole || r.UserID != "console" {
			t.Errorf("request %+v", r)
		}
	}
	if strings.Join(texts, "|") != "status|diagnose prod|cooldown reset anthropic:default" {
		t.Errorf("requests %q", texts)
	}
	if len(h.presses) != 1 || h.presses[0].Action != "ok:abc" {
		t.Errorf("presses %+v", h.presses)
	}
	for _, want := range []string{"got status", "(type confirm or cancel)", "pressed ok:abc"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// Run returns when ctx ends even if input never arrives.
func TestSessionStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, w := newPipe()
	defer w.Close()
	done := make(chan error, 1)
	go func() { done <- (&Session{Handler: &recHandler{}, Out: &bytes.Buffer{}}).Run(ctx, r) }()
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func newPipe() (*pipeReader, *pipeReader) { p := &pipeReader{ch: make(chan struct{})}; return p, p }

type pipeReader struct{ ch chan struct{} }

func (p *pipeReader) Read([]byte) (int, error) { <-p.ch; return 0, nil }
func (p *pipeReader) Close() error             { close(p.ch); return nil }
