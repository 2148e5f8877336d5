//go:build !unix

package peer

import "os/exec"

func setProcessGroup(cmd *exec.Cmd) {}

func processAlive(pid int) bool { return true }

// Descendants is empty where /proc is not available.
func Descendants(pid int) []int { return nil }
