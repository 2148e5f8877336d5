package bot

import (
	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// SurfaceOptions are what a chat surface (bot/slack, bot/telegram) needs
// besides its own config section.
type SurfaceOptions struct {
	Logger   *zerolog.Logger
	Scrubber *redact.Scrubber
	// OnState is told when the surface connects (true) and when it loses
	// the connection (false): metrics.
	OnState func(up bool)
}
