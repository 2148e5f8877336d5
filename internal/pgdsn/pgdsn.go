// Package pgdsn reads PostgreSQL connection strings (libpq's two forms: a
// postgres:// or postgresql:// URL, or keyword=value pairs) just enough to
// check their syntax and to hide their password. It never resolves
// anything (no environment, no passfile, no service file) and its errors
// never quote the string: a DSN is a secret.
package pgdsn

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Mask replaces a password in Redact's output.
const Mask = "xxxxx"

// IsURL reports whether dsn is in the URL form.
func IsURL(dsn string) bool {
	l := strings.ToLower(dsn)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// Check reports a syntax problem in dsn, without quoting it.
func Check(dsn string) error {
	if strings.TrimSpace(dsn) == "" {
		return errors.New("it is empty")
	}
	if IsURL(dsn) {
		u, err := url.Parse(dsn)
		if err != nil {
			return errors.New("it is not a valid postgres:// URL (check the percent-encoding of special characters in the user name and password)")
		}
		if u.Opaque != "" {
			return errors.New("it is not a valid postgres:// URL; write postgres://user:password@host:5432/dbname")
		}
		if _, err := url.ParseQuery(u.RawQuery); err != nil {
			return errors.New("its query string (after ?) is not valid")
		}
		return nil
	}
	if strings.Contains(dsn, "://") {
		return errors.New("it is a URL whose scheme is not postgres:// or postgresql://")
	}
	pairs, err := keywords(dsn)
	if err != nil {
		return err
	}
	if len(pairs) == 0 {
		return errors.New("it has no keyword=value pair")
	}
	return nil
}

// Password returns the password written in dsn ("" when there is none).
func Password(dsn string) string {
	if IsURL(dsn) {
		u, err := url.Parse(dsn)
		if err != nil {
			return ""
		}
		if p, ok := u.User.Password(); ok && p != "" {
			return p
		}
		q, _ := url.ParseQuery(u.RawQuery)
		return q.Get("password")
	}
	pairs, _ := keywords(dsn)
	for _, kv := range pairs {
		if kv.key == "password" {
			return kv.value
		}
	}
	return ""
}

// Redact returns dsn with its password replaced by Mask, for messages. A
// string that does not parse is not shown at all.
func Redact(dsn string) string {
	if IsURL(dsn) {
		u, err := url.Parse(dsn)
		if err != nil || u.Opaque != "" {
			return "(a postgres:// URL that does not parse; not shown)"
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), Mask)
		}
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return "(a postgres:// URL that does not parse; not shown)"
		}
		if q.Has("password") {
			q.Set("password", Mask)
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	pairs, err := keywords(dsn)
	if err != nil {
		return "(a DSN that does not parse; not shown)"
	}
	var b strings.Builder
	for i, kv := range pairs {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := kv.value
		if kv.key == "password" {
			v = Mask
		}
		b.WriteString(kv.key + "=" + quote(v))
	}
	return b.String()
}

type pair struct{ key, value string }

// keywords splits libpq's keyword=value form: spaces around "=" allowed,
// values optionally single-quoted, backslash escapes ' and \.
func keywords(s string) ([]pair, error) {
	var out []pair
	i := 0
	skip := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	for {
		skip()
		if i >= len(s) {
			return out, nil
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		key := s[start:i]
		skip()
		if i >= len(s) || s[i] != '=' || key == "" {
			return nil, fmt.Errorf("keyword %d has no \"=value\"; write key=value pairs separated by spaces, e.g. host=db.example dbname=openclaw_bot", len(out)+1)
		}
		for _, r := range key {
			if !(r >= 'a' && r <= 'z' || r == '_' || r >= '0' && r <= '9') {
				return nil, fmt.Errorf("keyword %d is not a libpq keyword (lower-case letters and _)", len(out)+1)
			}
		}
		i++ // '='
		skip()
		var v strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					v.WriteByte(s[i+1])
					i += 2
					continue
				}
				if c == '\'' {
					closed = true
					i++
					break
				}
				v.WriteByte(c)
				i++
			}
			if !closed {
				return nil, fmt.Errorf("the value of %s has an unterminated quote", key)
			}
		} else {
			for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' {
				if s[i] == '\\' && i+1 < len(s) {
					v.WriteByte(s[i+1])
					i += 2
					continue
				}
				v.WriteByte(s[i])
				i++
			}
		}
		out = append(out, pair{key, v.String()})
	}
}

func quote(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n\r'\\") {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
