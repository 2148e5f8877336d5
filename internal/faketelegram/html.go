package faketelegram

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseHTML parses text the way the Bot API parses a message sent with
// parse_mode "HTML" and returns the resulting plain text (tags removed,
// entities decoded). The error reads like Telegram's
// "Bad Request: can't parse entities: …" detail.
//
// It is deliberately a little stricter than Telegram: a bare "&" that does
// not start one of the supported entities (&lt; &gt; &amp; &quot; &#N;
// &#xH;) is an error here, where Telegram may let it through, so tests catch
// a renderer that forgot to escape.
//
// Supported tags (as in Bot API 5.5+ plus blockquote): b strong i em u ins s
// strike del a code pre span tg-spoiler tg-emoji blockquote. code and pre may
// not contain other tags, except one <code> directly inside <pre>.
func ParseHTML(text string) (string, error) {
	var out strings.Builder
	var stack []string
	i := 0
	for i < len(text) {
		c := text[i]
		switch c {
		case '<':
			end := tagEnd(text, i)
			if end < 0 {
				return "", fmt.Errorf("can't parse entities: unclosed start tag at byte offset %d", i)
			}
			raw := text[i+1 : end]
			if strings.HasPrefix(raw, "/") {
				name := strings.ToLower(strings.TrimSpace(raw[1:]))
				if len(stack) == 0 {
					return "", fmt.Errorf("can't parse entities: unexpected end tag at byte offset %d", i)
				}
				top := stack[len(stack)-1]
				if name != top {
					return "", fmt.Errorf("can't parse entities: unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top, name)
				}
				stack = stack[:len(stack)-1]
			} else {
				name, _, _ := strings.Cut(raw, " ")
				name = strings.ToLower(strings.TrimSpace(name))
				if !supportedTags[name] {
					return "", fmt.Errorf("can't parse entities: unsupported start tag %q at byte offset %d", name, i)
				}
				if len(stack) > 0 {
					top := stack[len(stack)-1]
					if (top == "code" || top == "pre") && !(top == "pre" && name == "code") {
						return "", fmt.Errorf("can't parse entities: tag %q can't be nested in %q at byte offset %d", name, top, i)
					}
					for _, t := range stack {
						if t == "code" {
							return "", fmt.Errorf("can't parse entities: tag %q can't be nested in \"code\" at byte offset %d", name, i)
						}
					}
				}
				if err := checkAttrs(name, raw[len(name):]); err != nil {
					return "", fmt.Errorf("can't parse entities: %v at byte offset %d", err, i)
				}
				stack = append(stack, name)
			}
			i = end + 1
		case '>':
			// Telegram accepts a bare '>' but we never should produce one.
			return "", fmt.Errorf("can't parse entities: unescaped '>' at byte offset %d", i)
		case '&':
			semi := strings.IndexByte(text[i:], ';')
			if semi < 0 || semi > 10 {
				return "", fmt.Errorf("can't parse entities: unescaped '&' at byte offset %d", i)
			}
			ent := text[i+1 : i+semi]
			r, ok := decodeEntity(ent)
			if !ok {
				return "", fmt.Errorf("can't parse entities: unsupported entity %q at byte offset %d", "&"+ent+";", i)
			}
			out.WriteRune(r)
			i += semi + 1
		default:
			r, size := utf8.DecodeRuneInString(text[i:])
			if r == utf8.RuneError && size == 1 {
				return "", fmt.Errorf("text must be encoded in UTF-8")
			}
			out.WriteString(text[i : i+size])
			i += size
		}
	}
	if len(stack) > 0 {
		return "", fmt.Errorf("can't parse entities: can't find end tag corresponding to start tag %q", stack[len(stack)-1])
	}
	return out.String(), nil
}

var supportedTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "a": true, "code": true, "pre": true,
	"span": true, "tg-spoiler": true, "tg-emoji": true, "blockquote": true,
}

// tagEnd finds the '>' closing the tag that starts at text[start] == '<',
// skipping quoted attribute values.
func tagEnd(text string, start int) int {
	quote := byte(0)
	for j := start + 1; j < len(text); j++ {
		c := text[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '<':
			return -1
		case c == '>':
			return j
		}
	}
	return -1
}

func checkAttrs(name, rest string) error {
	rest = strings.TrimSpace(rest)
	switch name {
	case "a":
		if !strings.HasPrefix(rest, "href=") {
			return fmt.Errorf("tag \"a\" needs an href attribute")
		}
	case "span":
		if rest != `class="tg-spoiler"` {
			return fmt.Errorf("tag \"span\" must have class=\"tg-spoiler\"")
		}
	case "code", "pre", "tg-emoji", "blockquote":
		// optional attributes (class="language-x", emoji-id, expandable)
	default:
		if rest != "" {
			return fmt.Errorf("tag %q must not have attributes", name)
		}
	}
	if strings.Contains(rest, "<") {
		return fmt.Errorf("unescaped '<' in attribute")
	}
	return nil
}

func decodeEntity(ent string) (rune, bool) {
	switch ent {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "quot":
		return '"', true
	}
	if strings.HasPrefix(ent, "#x") || strings.HasPrefix(ent, "#X") {
		n, err := strconv.ParseUint(ent[2:], 16, 32)
		return rune(n), err == nil && utf8.ValidRune(rune(n))
	}
	if strings.HasPrefix(ent, "#") {
		n, err := strconv.ParseUint(ent[1:], 10, 32)
		return rune(n), err == nil && utf8.ValidRune(rune(n))
	}
	return 0, false
}

// UTF16Len is the length of s in UTF-16 code units, the unit Telegram uses
// for message lengths and entity offsets.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
