package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// ErrLocked means another process holds the store's serve lock.
var ErrLocked = errors.New("the store is in use by another openclaw-bot serve")

// Lock takes the exclusive serve lock of the store at path: flock(2) on
// "<path>.lock" beside it. Two serve processes on one store would each
// evaluate, alert and act: every alert twice. The lock goes with the
// process (kill -9 included); the file keeps the holder's pid for the
// message of the next one. unlock releases it (serve's exit does too).
func Lock(path string) (unlock func() error, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("store: lock %s: create directory: %w", abs, err)
	}
	name := abs + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := make([]byte, 32)
		n, _ := f.ReadAt(holder, 0)
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another process"
			if pid, perr := strconv.Atoi(string(bytes.TrimSpace(holder[:n]))); perr == nil && pid > 0 {
				who = "pid " + strconv.Itoa(pid)
			}
			return nil, fmt.Errorf("%w: %s holds %s; stop it first, or give this one another store.path", ErrLocked, who, name)
		}
		return nil, fmt.Errorf("store: lock %s: %w (the store must be on a local filesystem)", name, err)
	}
	// Ours now: say who holds it.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() error {
		// Closing the descriptor releases the lock; the file stays (removing
		// it would race a process that just opened it).
		if err := f.Close(); err != nil {
			return fmt.Errorf("store: unlock %s: %w", name, err)
		}
		return nil
	}, nil
}
