package app

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"
)

// watchFile signals when the file's content changes (editors that replace
// the file included): fsnotify on its directory, debounced, with a slow
// poll as a fallback; the content is compared, so a touch is not a change.
func watchFile(ctx context.Context, path string, log zerolog.Logger) <-chan struct{} {
	out := make(chan struct{}, 1)
	sum := func() [32]byte {
		b, err := os.ReadFile(path)
		if err != nil {
			return [32]byte{}
		}
		return sha256.Sum256(b)
	}
	last := sum()
	var events chan fsnotify.Event
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(filepath.Dir(path)); err != nil {
			w.Close()
		} else {
			events = w.Events
		}
	}
	if err != nil {
		log.Warn().Err(err).Msg("config file watch: fsnotify unavailable; polling every 5s")
	}
	go func() {
		if events != nil {
			defer w.Close()
		}
		poll := time.NewTicker(5 * time.Second)
		defer poll.Stop()
		var debounce <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case <-events:
				debounce = time.After(300 * time.Millisecond)
				continue
			case <-debounce:
			case <-poll.C:
			}
			if now := sum(); now != last {
				last = now
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	if events != nil {
		go func() { // drain errors so the watcher never blocks
			for {
				select {
				case <-ctx.Done():
					return
				case _, ok := <-w.Errors:
					if !ok {
						return
					}
				}
			}
		}()
	}
	return out
}
