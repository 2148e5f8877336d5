package app

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/openclaw-bot/openclaw-bot/internal/pgtest"
)

// No test of this package leaves a goroutine behind; the PostgreSQL server
// the fleet tests shared stops first.
func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
