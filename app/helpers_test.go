package app

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/internal/servetest"
)

// The helpers shared with package app's tests (internal/servetest).
const (
	testSlackToken = servetest.SlackToken
	testAppToken   = servetest.AppToken
	testTGToken    = servetest.TGToken
	testChannel    = servetest.Channel
	testChat       = servetest.Chat
)

type (
	syncBuffer   = servetest.SyncBuffer
	serveOptions = Options
)

func install(t *testing.T, storeFile, stateFile, dotenv string) string {
	t.Helper()
	return servetest.Install(t, storeFile, stateFile, dotenv)
}
func must(t *testing.T, err error)         { t.Helper(); servetest.Must(t, err) }
func fixtureSecrets(t *testing.T) []string { t.Helper(); return servetest.Secrets(t) }
func assertNoSecretLeak(t *testing.T, text string, secrets []string) {
	t.Helper()
	servetest.AssertNoSecretLeak(t, text, secrets)
}
func freeAddr(t *testing.T) string                     { t.Helper(); return servetest.FreeAddr(t) }
func scrape(t *testing.T, url string) servetest.Series { t.Helper(); return servetest.Scrape(t, url) }
func get(t *testing.T, url string) (int, string)       { t.Helper(); return servetest.Get(t, url) }
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	servetest.WaitFor(t, what, timeout, cond)
}
func serveConfig(t *testing.T, stateDir, slackURL, tgURL, anthropicURL string) string {
	t.Helper()
	return servetest.ServeConfig(t, stateDir, slackURL, tgURL, anthropicURL)
}
func fifoDB(t *testing.T, stateDir string) string { t.Helper(); return servetest.FIFODB(t, stateDir) }

// loadConfig is the command's: the embedded default without a path.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

// serve is what `openclaw-bot serve` runs: the app, until ctx ends.
func serve(ctx context.Context, cfg *config.Config, log zerolog.Logger, o serveOptions) error {
	o.Log = log
	a, err := New(ctx, cfg, o)
	if err == nil {
		err = a.Start(ctx)
	}
	if err != nil {
		return err
	}
	return a.Serve(ctx)
}

// startServe runs serve in the background. stop ends it and fails the test
// if serve returned an error; it runs at most once (call it mid-test to
// read what serve wrote on its way out, or defer it).
func startServe(t *testing.T, cfg *config.Config, log zerolog.Logger, o serveOptions) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, log, o) }()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
}
