package slack

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkSlashAck measures how fast the HTTP handler acks signed slash
// commands: each iteration fires a burst of 200 concurrent requests while
// the handler, which takes 50 ms per command, runs in the background.
// p50-ms / p99-ms are the client-side ack latencies over all requests
// (target: p99 ≤ 50 ms, i.e. the ack never waits for the handler).
func BenchmarkSlashAck(b *testing.B) {
	const (
		burst   = 200
		handler = 50 * time.Millisecond
	)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	defer sink.Close()

	h := &recHandler{delay: handler}
	hh := NewHTTPHandler(h, HTTPOptions{
		SigningSecret: inSecret,
		APIURL:        sink.URL, // the replies' sink stands in for Slack
		MaxConcurrent: burst,    // every command of a burst runs at once: Wait between bursts is ~50 ms
		MaxPending:    2 * burst,
		Client:        &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: burst}},
	})
	srv := httptest.NewServer(hh)
	defer srv.Close()
	defer hh.Close()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 2 * burst, MaxIdleConnsPerHost: 2 * burst}}
	defer client.CloseIdleConnections()

	var seq int
	var failures, slowDowns int
	fire := func() []time.Duration {
		reqs := make([]*http.Request, burst)
		for i := range reqs {
			seq++
			form := url.Values{
				"command": {Command}, "text": {"status " + strconv.Itoa(seq)}, "user_id": {"U1"},
				"user_name": {"alice"}, "channel_id": {"C1"}, "response_url": {sink.URL + "/r/" + strconv.Itoa(seq)},
				"trigger_id": {strconv.Itoa(seq)},
			}
			body := form.Encode()
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			req, _ := http.NewRequest(http.MethodPost, srv.URL+CommandsPath, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Slack-Request-Timestamp", ts)
			req.Header.Set("X-Slack-Signature", slackSign(inSecret, ts, []byte(body)))
			reqs[i] = req
		}
		lat := make([]time.Duration, burst)
		bad := make([]int, burst) // 1 failure, 2 slow down
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range reqs {
			wg.Go(func() {
				<-start
				t0 := time.Now()
				resp, err := client.Do(reqs[i])
				if err != nil {
					bad[i] = 1
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				switch {
				case resp.StatusCode != http.StatusOK:
					bad[i] = 1
				case strings.Contains(string(body), "Slow down"):
					bad[i] = 2
				}
			})
		}
		close(start)
		wg.Wait()
		for _, v := range bad {
			switch v {
			case 1:
				failures++
			case 2:
				slowDowns++
			}
		}
		return lat
	}

	// Warm up connections outside the measurement.
	fire()
	hh.Wait()
	failures, slowDowns = 0, 0

	var all []time.Duration
	for b.Loop() {
		all = append(all, fire()...)
		b.StopTimer()
		hh.Wait() // let this burst's handlers finish before the next one
		b.StartTimer()
	}
	b.StopTimer()
	if failures > 0 {
		b.Fatalf("%d requests failed", failures)
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		i := int(p * float64(len(all)-1))
		return float64(all[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(all[len(all)-1])/float64(time.Millisecond), "max-ms")
	b.ReportMetric(float64(slowDowns), "slowdowns")
	if p99 := pct(0.99); p99 > 50 {
		b.Logf("p99 ack latency %.1f ms is above the 50 ms target", p99)
	}
	if r, _ := h.counts(); r != len(all)+burst-slowDowns {
		b.Errorf("handler ran %d times for %d acked requests (%d slow downs)", r, len(all)+burst, slowDowns)
	}
}
