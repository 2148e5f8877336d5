// Package netutil holds the one loopback check. It imports nothing of the
// module, so config, diagnostics and the chat surfaces can all use it.
package netutil

import (
	"net/netip"
	"strings"
)

// IsLoopback reports whether host (a URL's or listen address's host, with
// or without [brackets], no port) is "localhost" (any case, a trailing dot
// allowed) or a loopback IP: 127.0.0.0/8, ::1, also IPv4-mapped
// (::ffff:127.0.0.1) and with a zone (::1%lo).
func IsLoopback(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")), ".")
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.WithZone("").Unmap().IsLoopback()
}
