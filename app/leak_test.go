package app

import (
	"testing"

	"github.com/openclaw-bot/openclaw-bot/internal/pgtest"
)

// No test of this package leaves a goroutine behind; the PostgreSQL server
// the fleet tests shared stops first.
func TestMain(m *testing.M) { pgtest.Main(m) }
