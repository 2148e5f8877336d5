// Package json5 parses JSON5 documents (https://spec.json5.org), the format
// OpenClaw uses for openclaw.json.
//
// OpenClaw reads its configuration with the npm json5 package (version 2.x).
// This package accepts the same documents and, for malformed input, reports
// the same error text with the same line and column, for example
//
//	JSON5: invalid end of input at 4:1
//	JSON5: invalid character 'x' at 3:5
//
// Line and column follow the npm package exactly: lines are counted at line
// feeds (U+000A) only, so a lone CR, U+2028 and U+2029 do not start a new
// line, and columns are 1-based and count UTF-16 code units, which is the
// same as counting Unicode code points except that a character outside the
// Basic Multilingual Plane (an emoji, say) counts as two. A character that
// is itself a line feed is reported at column 0 of the next line, as the npm
// package does.
//
// Known differences from the npm package, all on inputs it cannot parse
// either or that it would parse with a different Unicode version:
//   - Unquoted keys use the ECMAScript 5.1 character classes evaluated with
//     the Unicode tables of the Go standard library, which are newer than the
//     ones built into npm json5 2.x; letters added to Unicode since then are
//     accepted here and rejected there.
//   - Input must be valid UTF-8; invalid bytes are reported as
//     "invalid UTF-8 encoding" at their position.
//   - Arrays and objects may be nested at most MaxDepth levels deep.
//   - A \uXXXX escape that yields a lone UTF-16 surrogate (one not paired
//     with its partner in the next escape) becomes U+FFFD, because Go strings
//     hold UTF-8.
package json5

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Pos is a position in the source text. Line and Column are 1-based and are
// counted the way the npm json5 package counts them: see the package
// documentation.
type Pos struct{ Line, Column int }

// String returns the position as "line:column".
func (p Pos) String() string {
	return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column)
}

// Kind is the type of a JSON5 value.
type Kind int

// The kinds of JSON5 values.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

// String returns the lower-case name of the kind, e.g. "object".
func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "bool"
	case Number:
		return "number"
	case String:
		return "string"
	case Array:
		return "array"
	case Object:
		return "object"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Member is one key/value pair of an object.
type Member struct {
	Key    string
	KeyPos Pos // where the key starts (its quote, first letter or backslash)
	Value  *Node
}

// Node is a parsed JSON5 value. Which fields are meaningful depends on Kind.
type Node struct {
	Kind    Kind
	Pos     Pos      // where the value starts (for a number, its sign if any)
	Bool    bool     // Bool
	Num     float64  // Number; may be NaN or ±Inf
	Raw     string   // Number: the literal as written, e.g. "-0x1F", "+.5", "Infinity"
	Str     string   // String
	Elems   []*Node  // Array
	Members []Member // Object, in order of first appearance of each key
}

// Get walks down through object members, one key per level, and returns the
// value found, or nil if some key is missing or a value on the way is not an
// object. It is safe to call on a nil *Node. Get() with no keys returns n.
func (n *Node) Get(keys ...string) *Node {
	for _, key := range keys {
		if n == nil || n.Kind != Object {
			return nil
		}
		var next *Node
		// Search from the end so that, should a hand-built node hold a key
		// twice, the last one wins as it does when parsing.
		for i := len(n.Members) - 1; i >= 0; i-- {
			if n.Members[i].Key == key {
				next = n.Members[i].Value
				break
			}
		}
		n = next
	}
	return n
}

// Interface converts the node into plain Go values, the way encoding/json
// decodes into an interface{}: nil, bool, float64, string, []any and
// map[string]any. A nil *Node yields nil.
func (n *Node) Interface() any {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case Bool:
		return n.Bool
	case Number:
		return n.Num
	case String:
		return n.Str
	case Array:
		out := make([]any, len(n.Elems))
		for i, e := range n.Elems {
			out[i] = e.Interface()
		}
		return out
	case Object:
		out := make(map[string]any, len(n.Members))
		for _, m := range n.Members {
			out[m.Key] = m.Value.Interface()
		}
		return out
	}
	return nil
}

// MarshalJSON encodes the node as standard JSON, keeping the order of object
// members. NaN and ±Infinity have no JSON form and make it return an error.
func (n *Node) MarshalJSON() ([]byte, error) {
	return n.appendJSON(nil)
}

// Unmarshal parses JSON5 data and stores the result in the value pointed to
// by v, using the rules of encoding/json (struct tags, json.Unmarshaler and
// so on). It works by converting the document to standard JSON first, so a
// document containing NaN, Infinity or -Infinity cannot be unmarshalled and
// yields an error naming the number and its position. Syntax errors are
// returned as *SyntaxError; decoding errors are those of encoding/json.
func Unmarshal(data []byte, v any) error {
	n, err := Parse(data)
	if err != nil {
		return err
	}
	b, err := n.appendJSON(nil)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// appendJSON appends the standard JSON encoding of n to b.
func (n *Node) appendJSON(b []byte) ([]byte, error) {
	if n == nil {
		return append(b, "null"...), nil
	}
	switch n.Kind {
	case Null:
		return append(b, "null"...), nil
	case Bool:
		return strconv.AppendBool(b, n.Bool), nil
	case Number:
		return appendJSONNumber(b, n)
	case String:
		return appendJSONString(b, n.Str), nil
	case Array:
		b = append(b, '[')
		for i, e := range n.Elems {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = e.appendJSON(b); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case Object:
		b = append(b, '{')
		for i, m := range n.Members {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, m.Key)
			b = append(b, ':')
			var err error
			if b, err = m.Value.appendJSON(b); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return nil, fmt.Errorf("json5: node of unknown kind %d at %s", int(n.Kind), n.Pos)
}

// appendJSONNumber appends a number the way encoding/json formats a float64,
// so that integral values come out without an exponent and decode into Go
// integer types.
func appendJSONNumber(b []byte, n *Node) ([]byte, error) {
	f := n.Num
	if math.IsNaN(f) || math.IsInf(f, 0) {
		raw := n.Raw
		if raw == "" {
			raw = strconv.FormatFloat(f, 'g', -1, 64)
		}
		return nil, fmt.Errorf("json5: number %s at %s has no JSON representation", raw, n.Pos)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, f, format, -1, 64), nil
}

// appendJSONString appends s as a JSON string literal. Invalid UTF-8 (only
// possible in hand-built nodes) is replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
