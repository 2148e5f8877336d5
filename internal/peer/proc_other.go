//go:build !unix

package peer

import "os/exec"

func setProcessGroup(cmd *exec.Cmd) {}
