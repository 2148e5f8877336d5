package netutil

import "testing"

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "localhost.": true, "127.0.0.1": true, "127.1.2.3": true,
		"::1": true, "[::1]": true, "::1%lo": true, "::ffff:127.0.0.1": true, "[::ffff:127.0.0.1]": true,
		"": false, "example.com": false, "localhost.example.com": false, "10.0.0.1": false, "128.0.0.1": false,
		"::2": false, "0.0.0.0": false, "::": false, "127.0.0.1:80": false, "[::1]:80": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
