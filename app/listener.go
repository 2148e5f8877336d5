package app

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits of serve's HTTP listeners (http.listen, metrics.listen). In Slack
// HTTP mode and with a Telegram webhook, http.listen faces the internet
// and anyone can connect before any signature is checked: without these a
// client trickling a body, or just keeping connections open, held a
// goroutine and a file descriptor each for as long as it liked (1,500 of
// them doubled the RSS).
const (
	// httpReadHeaderTimeout: the request line and headers must arrive
	// within this (Slack and Telegram send them at once).
	httpReadHeaderTimeout = 5 * time.Second
	// httpReadTimeout bounds reading a whole request, body included. The
	// largest legitimate body is a Telegram update (≤ 1 MiB, usually a few
	// KiB) or a Slack form (≤ 64 KiB); Slack itself gives up after 3 s.
	httpReadTimeout = 10 * time.Second
	// httpWriteTimeout bounds a handler plus the writing of its response,
	// counted from the end of the request headers. The slowest legitimate
	// handler is the Telegram webhook: it waits up to 5 s for a worker and
	// 5 s for answerCallbackQuery, after a body read of at most
	// httpReadTimeout; Slack requests are acked at once (the work runs
	// after the response) and a /metrics scrape of 500 targets takes about
	// 20 ms. 30 s leaves room for all of them on a loaded machine.
	httpWriteTimeout = 30 * time.Second
	// httpIdleTimeout closes a keep-alive connection with no next request.
	httpIdleTimeout = 30 * time.Second
	// httpMaxHeaderBytes caps the request headers (Go's default is 1 MiB;
	// Slack's and Telegram's are well under 4 KiB).
	httpMaxHeaderBytes = 16 << 10
	// httpMaxBody caps any request body on http.listen (the Slack handler
	// has its own 64 KiB limit, the Telegram webhook 1 MiB: this is the
	// larger, for every other path).
	httpMaxBody = 1 << 20
	// httpMaxConns is the most connections http.listen holds open at once;
	// more wait in the kernel's accept queue (holding no descriptor of
	// ours) until one closes — at the latest after the timeouts above.
	// Slack HTTP mode was measured at 200 concurrent commands.
	httpMaxConns = 256
	// metricsMaxConns is the same for metrics.listen (a few scrapers).
	metricsMaxConns = 32
)

// HTTPLimits are the limits of one listener; zero fields take the
// constants above (tests inject small ones).
type HTTPLimits struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	MaxBody           int64
	MaxConns          int
}

// orDefault fills zero fields; maxConns is the listener's default cap.
func (l HTTPLimits) orDefault(maxConns int) HTTPLimits {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.ReadHeaderTimeout, httpReadHeaderTimeout)
	def(&l.ReadTimeout, httpReadTimeout)
	def(&l.WriteTimeout, httpWriteTimeout)
	def(&l.IdleTimeout, httpIdleTimeout)
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = httpMaxHeaderBytes
	}
	if l.MaxBody <= 0 {
		l.MaxBody = httpMaxBody
	}
	if l.MaxConns <= 0 {
		l.MaxConns = maxConns
	}
	return l
}

// newHTTPServer returns a server for h with every limit of l (bodies
// capped at l.MaxBody); serve it on limitListener(ln, l.MaxConns).
func newHTTPServer(h http.Handler, l HTTPLimits) *http.Server {
	return &http.Server{
		Handler:           http.MaxBytesHandler(h, l.MaxBody),
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}
}

// limitListener accepts at most n connections open at once: Accept waits
// for one to close (like golang.org/x/net/netutil.LimitListener, which is
// not a dependency of this module). Close unblocks a waiting Accept.
type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// open is how many accepted connections are open (tests).
func (l *limitListener) open() int { return len(l.sem) }

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
