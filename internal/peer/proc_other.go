//go:build !unix

package peer

import "os/exec"

func setProcessGroup(cmd *exec.Cmd) {}

func processAlive(pid int) bool { return true }
