package run

// program.go — starting a process: the only exec.Command of the module.
//
// Every child runs without a shell, with the environment it is given (the
// callers build a minimal one), stdin from /dev/null, in its own process
// group. On its Timeout or when ctx ends the whole group gets SIGTERM, and
// SIGKILL only once the grace period has passed with something still alive.

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"syscall"
	"time"
)

// waitDelay bounds how long we wait for stdout/stderr to close after the
// child exited (a detached grandchild may hold them open).
const waitDelay = 2 * time.Second

// Proc is one process to run.
type Proc struct {
	// Argv is the program (absolute path) and its arguments.
	Argv []string
	// Env is the child's complete environment; Dir its working directory.
	Env []string
	Dir string
	// Credential, if set, is the user the child runs as.
	Credential *syscall.Credential
	// Stdout and Stderr receive the output (nil: discarded).
	Stdout, Stderr io.Writer
	// Timeout, if positive, bounds the run in addition to ctx.
	Timeout time.Duration
	// Grace between SIGTERM and SIGKILL.
	Grace time.Duration
}

// Ended is how a process that was started ended.
type Ended struct {
	// Exit is the exit code, -1 when unknown (killed by a signal).
	Exit int
	Took time.Duration
	// Stopped: it was terminated because ctx ended or Timeout passed;
	// TimedOut: because of Timeout. Killed: SIGKILL was sent.
	Stopped, TimedOut, Killed bool
	// WaitErr is what Wait returned.
	WaitErr error
}

// Program runs p and waits for it. An error means it could not be started
// (nothing ran); every other outcome is in Ended.
func Program(ctx context.Context, p Proc) (Ended, error) {
	if len(p.Argv) == 0 {
		return Ended{}, errors.New("no program")
	}
	if err := ctx.Err(); err != nil {
		return Ended{}, err
	}
	cmd := exec.Command(p.Argv[0], p.Argv[1:]...)
	cmd.Env = p.Env
	cmd.Dir = p.Dir
	cmd.Stdin = nil // /dev/null: prompts get EOF
	cmd.Stdout, cmd.Stderr = p.Stdout, p.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: p.Credential}
	cmd.WaitDelay = waitDelay

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Ended{}, err
	}
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var timeout <-chan time.Time
	if p.Timeout > 0 {
		timer := time.NewTimer(p.Timeout)
		defer timer.Stop()
		timeout = timer.C
	}
	var end Ended
	select {
	case end.WaitErr = <-done:
	case <-timeout:
		end.Stopped, end.TimedOut = true, true
	case <-ctx.Done():
		end.Stopped = true
	}
	if end.Stopped {
		end.WaitErr, end.Killed = terminate(pgid, p.Grace, done)
	}
	end.Took = time.Since(start)
	end.Exit = -1
	if cmd.ProcessState != nil {
		end.Exit = cmd.ProcessState.ExitCode()
	}
	return end, nil
}

// terminate: SIGTERM to the group, wait up to grace for the group to be
// gone, then SIGKILL. Returns the Wait error and whether SIGKILL was sent.
func terminate(pgid int, grace time.Duration, done <-chan error) (error, bool) {
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	var waitErr error
	select {
	case waitErr = <-done:
		// The leader is gone; give the rest of the group what is left of
		// the grace before killing it.
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for {
			if syscall.Kill(-pgid, 0) != nil {
				return waitErr, false
			}
			select {
			case <-tick.C:
			case <-deadline.C:
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				return waitErr, true
			}
		}
	case <-deadline.C:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		return <-done, true
	}
}
