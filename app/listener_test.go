package app

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	slackbot "github.com/openclaw-bot/openclaw-bot/bot/slack"
	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/metrics"
)

// startListeners runs serve's HTTP listeners (http.listen with the Slack
// HTTP mode handler mounted, and metrics.listen) on loopback with lim, and
// returns the server whose listeners field has their addresses.
func startListeners(t *testing.T, lim HTTPLimits) *App {
	t.Helper()
	s := &App{log: zerolog.Nop(), metrics: metrics.New(metrics.BuildInfo{}), opts: Options{HTTPLimits: lim}}
	sh := slackbot.NewHTTPHandler(&handlerRef{}, slackbot.HTTPOptions{SigningSecret: "test-signing-secret"})
	t.Cleanup(func() { _ = sh.Close() })
	mux := http.NewServeMux()
	mux.Handle(slackbot.CommandsPath, sh)
	s.chatMux.Store(mux)
	cfg := &config.Config{}
	cfg.HTTP.Listen, cfg.Metrics.Listen = "127.0.0.1:0", "127.0.0.1:0"
	stop, err := s.startHTTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s
}

func (s *App) addr(key string) string { return s.listeners[key].Addr().String() }

func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitClosed reads c until the server closes it (or within runs out) and
// says how long that took from start.
func waitClosed(t *testing.T, c net.Conn, start time.Time, within time.Duration) time.Duration {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open for more than %s", time.Since(start).Round(time.Millisecond))
	}
	return time.Since(start)
}

// A client that sends the headers of a Slack command and then one body
// byte at a time, slower than the read timeout allows, is cut off by it.
func TestHTTPSlowBodyCutByReadTimeout(t *testing.T) {
	const readTimeout = 600 * time.Millisecond
	s := startListeners(t, HTTPLimits{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: readTimeout, WriteTimeout: 2 * time.Second, IdleTimeout: time.Second})
	c := dialRaw(t, s.addr("http.listen"))
	start := time.Now()
	const bodyLen = 100
	_, err := io.WriteString(c, "POST "+slackbot.CommandsPath+" HTTP/1.1\r\nHost: bot\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"X-Slack-Request-Timestamp: 1\r\nX-Slack-Signature: v0=00\r\nContent-Length: 100\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int32
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a body byte every 200 ms: the whole body would take 20 s
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for range bodyLen {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := c.Write([]byte("a")); err != nil {
				return
			}
			sent.Add(1)
		}
	}()
	took := waitClosed(t, c, start, 5*time.Second)
	if took > readTimeout+time.Second || sent.Load() >= bodyLen {
		t.Fatalf("cut after %s with %d/%d body bytes sent, want within about %s", took, sent.Load(), bodyLen, readTimeout)
	}
}

// An idle keep-alive connection is closed after the idle timeout, on
// http.listen and on metrics.listen.
func TestHTTPIdleKeepAliveClosed(t *testing.T) {
	const idle = 500 * time.Millisecond
	s := startListeners(t, HTTPLimits{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second, IdleTimeout: idle})
	for key, path := range map[string]string{"http.listen": "/healthz", "metrics.listen": "/metrics"} {
		t.Run(key, func(t *testing.T) {
			c := dialRaw(t, s.addr(key))
			if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: bot\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Close {
				t.Fatalf("GET %s: %d, close %v", path, resp.StatusCode, resp.Close)
			}
			start := time.Now()
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = br.ReadByte()
			took := time.Since(start)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("idle keep-alive still open after %s", took.Round(time.Millisecond))
			}
			if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
				t.Fatalf("read on the idle connection: %v", err)
			}
			if took < idle/2 || took > idle+time.Second {
				t.Fatalf("idle keep-alive closed after %s, want about %s", took, idle)
			}
		})
	}
}

// With a cap of N connections, N slow clients (headers never finished)
// hold every slot: the next request waits (it is not served while they
// hold them), and once the header timeout cuts them /healthz answers.
func TestHTTPConnectionCap(t *testing.T) {
	const (
		maxConns      = 3
		headerTimeout = 800 * time.Millisecond
	)
	s := startListeners(t, HTTPLimits{ReadHeaderTimeout: headerTimeout, ReadTimeout: headerTimeout, WriteTimeout: 2 * time.Second,
		IdleTimeout: headerTimeout, MaxConns: maxConns})
	addr := s.addr("http.listen")
	start := time.Now()
	slow := make([]net.Conn, maxConns)
	for i := range slow {
		slow[i] = dialRaw(t, addr)
		if _, err := io.WriteString(slow[i], "GET /healthz HTTP/1.1\r\nHost: bot\r\n"); err != nil { // no final CRLF
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(2 * time.Second); s.listeners["http.listen"].open() < maxConns; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d slow connections accepted", s.listeners["http.listen"].open(), maxConns)
		}
		time.Sleep(5 * time.Millisecond)
	}

	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	// The N+1th: not served while the slow ones hold every slot.
	quick := &http.Client{Transport: tr, Timeout: headerTimeout / 3}
	if resp, err := quick.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("the request over the cap of %d was served at once (%d)", maxConns, resp.StatusCode)
	}
	if n := s.listeners["http.listen"].open(); n > maxConns {
		t.Fatalf("%d connections open, cap %d", n, maxConns)
	}
	// It waits for a slot: answered once the header timeout has cut the
	// slow ones.
	patient := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	resp, err := patient.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("/healthz after the slow connections timed out: %v", err)
	}
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK || took < headerTimeout/2 || took > headerTimeout+2*time.Second {
		t.Fatalf("/healthz: %d after %s, want 200 after about %s", resp.StatusCode, took, headerTimeout)
	}
	for i, c := range slow {
		if d := waitClosed(t, c, start, 3*time.Second); d > headerTimeout+2*time.Second {
			t.Errorf("slow connection %d closed after %s", i, d)
		}
	}
}

// The defaults are the documented constants; a zero field takes its
// default, a set one is kept.
func TestHTTPLimitsDefaults(t *testing.T) {
	got := HTTPLimits{IdleTimeout: time.Second}.orDefault(httpMaxConns)
	want := HTTPLimits{ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		IdleTimeout: time.Second, MaxHeaderBytes: 16 << 10, MaxBody: 1 << 20, MaxConns: 256}
	if got != want {
		t.Fatalf("limits = %+v, want %+v", got, want)
	}
	srv := newHTTPServer(http.NotFoundHandler(), HTTPLimits{}.orDefault(metricsMaxConns))
	if srv.ReadTimeout != httpReadTimeout || srv.WriteTimeout != httpWriteTimeout || srv.IdleTimeout != httpIdleTimeout ||
		srv.ReadHeaderTimeout != httpReadHeaderTimeout || srv.MaxHeaderBytes != httpMaxHeaderBytes {
		t.Fatalf("server = %+v", srv)
	}
}

// Headers over httpMaxHeaderBytes are refused with 431 (Go's default
// would take 1 MiB).
func TestHTTPHeaderCap(t *testing.T) {
	s := startListeners(t, HTTPLimits{})
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.addr("http.listen")+"/healthz", nil)
	req.Header.Set("X-Padding", strings.Repeat("a", 2*httpMaxHeaderBytes))
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("a %d KiB header: %d, want 431", 2*httpMaxHeaderBytes>>10, resp.StatusCode)
	}
}
