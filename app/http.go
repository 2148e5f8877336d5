package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/internal/netutil"
)

// startHTTP serves /healthz, /readyz and the chat webhooks on http.listen
// ("" = off), and /metrics on metrics.listen (or on http.listen when that
// is empty and http.listen is loopback). The returned func closes them.
func (a *App) startHTTP(cfg *config.Config) (func(), error) {
	var servers []*http.Server
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, srv := range servers {
			_ = srv.Shutdown(ctx)
		}
	}
	// Every listener gets read, write and idle timeouts, a header and a
	// body cap, and a cap on open connections (listener.go).
	listen := func(key, addr string, h http.Handler, maxConns int) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s %s: %w (set %s to another address, or \"\" to turn it off)", key, addr, err, key)
		}
		lim := a.opts.HTTPLimits.orDefault(maxConns)
		lln := newLimitListener(ln, lim.MaxConns)
		if a.listeners == nil {
			a.listeners = map[string]*limitListener{}
		}
		a.listeners[key] = lln
		srv := newHTTPServer(h, lim)
		servers = append(servers, srv)
		go func() {
			if err := srv.Serve(lln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error().Err(err).Str("listener", key).Msg("http server")
			}
		}()
		a.log.Info().Str("addr", ln.Addr().String()).Str("listener", key).Int("max_conns", lim.MaxConns).
			Dur("read_timeout", lim.ReadTimeout).Dur("idle_timeout", lim.IdleTimeout).Msg("http listening")
		return nil
	}
	metricsOnHTTP := cfg.Metrics.Listen == "" && loopbackAddr(cfg.HTTP.Listen)
	if cfg.HTTP.Listen != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintln(w, `{"ok":true}`)
		})
		mux.HandleFunc("GET /readyz", a.readyz)
		if metricsOnHTTP {
			mux.Handle("GET /metrics", a.metrics.Handler())
		}
		mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.chatMux.Load().ServeHTTP(w, r) }))
		if err := listen("http.listen", cfg.HTTP.Listen, mux, httpMaxConns); err != nil {
			return stop, err
		}
	}
	switch {
	case cfg.Metrics.Listen != "":
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.metrics.Handler())
		if err := listen("metrics.listen", cfg.Metrics.Listen, mux, metricsMaxConns); err != nil {
			stop()
			return func() {}, err
		}
	case !metricsOnHTTP:
		a.log.Info().Msg("/metrics is off: set metrics.listen (http.listen is empty or not loopback)")
	}
	return stop, nil
}

// readyz: 200 when the store answers and every chat surface is ready.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	var failing []string
	if _, err := a.store.OutboxDepth(r.Context()); err != nil {
		failing = append(failing, "store")
	}
	failing = append(failing, a.notReady()...)
	if len(failing) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		b, _ := json.Marshal(map[string]any{"ready": false, "failing": failing})
		w.Write(append(b, '\n'))
		return
	}
	fmt.Fprintln(w, `{"ready":true}`)
}

// loopbackAddr reports whether a listen address is on a loopback host.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	return netutil.IsLoopback(host)
}

// Probe asks a running serve on its http.listen address whether it is
// alive (/healthz) or, with ready, ready (/readyz): the body of a 200, or
// why not (`openclaw-bot healthcheck`).
func Probe(ctx context.Context, listen string, ready bool) (string, error) {
	url, err := ProbeURL(listen, ready)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", &ProbeError{fmt.Sprintf("%s: %v (is serve running with http.listen %s?)", url, err, listen)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return "", &ProbeError{fmt.Sprintf("%s: HTTP %d %s", url, resp.StatusCode, body)}
	}
	return string(body), nil
}

// ProbeError is a serve that did not answer, or not 200 (as opposed to a
// probe that could not be made).
type ProbeError struct{ msg string }

func (e *ProbeError) Error() string { return e.msg }

// ProbeURL is the URL of serve's probe on a listen address; a wildcard
// host (0.0.0.0, ::, empty) is asked on loopback.
func ProbeURL(listen string, ready bool) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("http.listen %q is not host:port: %w", listen, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	path := "/healthz"
	if ready {
		path = "/readyz"
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}
