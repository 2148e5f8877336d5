package json5

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// same reports whether two Interface() results are equal, treating NaN as
// equal to NaN and telling 0 and -0 apart.
func same(a, b any) bool {
	switch a := a.(type) {
	case float64:
		b, ok := b.(float64)
		if !ok {
			return false
		}
		if math.IsNaN(a) || math.IsNaN(b) {
			return math.IsNaN(a) && math.IsNaN(b)
		}
		return math.Float64bits(a) == math.Float64bits(b)
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !same(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !same(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

type obj = map[string]any
type arr = []any

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want any
	}{
		// Top-level values of every type.
		{"null", "null", nil},
		{"true", "true", true},
		{"false", "false", false},
		{"integer", "42", 42.0},
		{"double-quoted string", `"hi"`, "hi"},
		{"single-quoted string", `'hi'`, "hi"},
		{"empty array", "[]", arr{}},
		{"empty object", "{}", obj{}},
		{"surrounded by whitespace", " \t\n\r\v\f 1 \n", 1.0},

		// Comments.
		{"line comment", "// c\n1 // d", 1.0},
		{"block comment", "/* a */ [ /* b */ 1 /* c */ ] /* d */", arr{1.0}},
		{"block comment with stars", "/** a **/1/***/", 1.0},
		{"comment ends at CR", "// c\r1", 1.0},
		{"comment ends at LS", "// c\u20281", 1.0},
		{"comment ends at PS", "// c\u20291", 1.0},
		{"comment markers in string", `"// not /* a comment */"`, "// not /* a comment */"},
		{"block comment spans lines", "/*\n*\n*/ true", true},

		// Whitespace.
		{"unicode whitespace", "\u00A0\uFEFF\u2028\u2029\u1680\u2000\u200A\u202F\u205F\u3000 1", 1.0},
		{"byte order mark", "\uFEFF{}", obj{}},

		// Objects.
		{"unquoted keys", "{a: 1, b_c: 2, $d: 3, _e: 4}", obj{"a": 1.0, "b_c": 2.0, "$d": 3.0, "_e": 4.0}},
		{"quoted keys", `{"a": 1, 'b': 2, "c d": 3, '': 4}`, obj{"a": 1.0, "b": 2.0, "c d": 3.0, "": 4.0}},
		{"trailing comma in object", "{a: 1,}", obj{"a": 1.0}},
		{"reserved words as keys", "{null: 1, true: 2, if: 3, Infinity: 4, NaN: 5}", obj{"null": 1.0, "true": 2.0, "if": 3.0, "Infinity": 4.0, "NaN": 5.0}},
		{"unicode letter keys", "{café: 1, ünï: 2, ℵ: 3, Ⅷ: 4, ĳ: 5}", obj{"café": 1.0, "ünï": 2.0, "ℵ": 3.0, "Ⅷ": 4.0, "ĳ": 5.0}},
		{"identifier parts", "{a1: 1, a\u0301: 2, a\u203Fb: 3, a\u0663: 4, a\u200Cb\u200D: 5}", obj{"a1": 1.0, "a\u0301": 2.0, "a\u203Fb": 3.0, "a\u0663": 4.0, "a\u200Cb\u200D": 5.0}},
		{"escaped identifiers", `{\u0061b: 1, a\u0062c: 2, \u0024: 3, \u005F: 4, a\u200D: 5, \u00e9t\u00E9: 6}`, obj{"ab": 1.0, "abc": 2.0, "$": 3.0, "_": 4.0, "a\u200D": 5.0, "été": 6.0}},
		{"duplicate keys last wins", `{a: 1, b: 2, a: 3}`, obj{"a": 3.0, "b": 2.0}},
		{"nested", `{a: {b: [1, {c: null}]}}`, obj{"a": obj{"b": arr{1.0, obj{"c": nil}}}}},
		{"proto key is ordinary", `{__proto__: 1}`, obj{"__proto__": 1.0}},

		// Arrays.
		{"trailing comma in array", "[1, 2,]", arr{1.0, 2.0}},
		{"mixed array", `[null, true, 'x', [], {}]`, arr{nil, true, "x", arr{}, obj{}}},
		{"newlines in array", "[\n1\n,\n2\n]", arr{1.0, 2.0}},

		// Numbers.
		{"negative", "-5", -5.0},
		{"explicit plus", "+5", 5.0},
		{"decimal", "1.25", 1.25},
		{"leading decimal point", ".5", 0.5},
		{"trailing decimal point", "5.", 5.0},
		{"signed leading point", "-.5", -0.5},
		{"exponent", "1e3", 1000.0},
		{"exponent upper case", "1E3", 1000.0},
		{"exponent with sign", "25e-2", 0.25},
		{"exponent with plus", "2.5E+1", 25.0},
		{"point then exponent", "5.e1", 50.0},
		{"leading point exponent", ".5e1", 5.0},
		{"zero", "0", 0.0},
		{"negative zero", "-0", math.Copysign(0, -1)},
		{"zero fraction", "0.5", 0.5},
		{"zero exponent", "0e5", 0.0},
		{"hex", "0x1F", 31.0},
		{"hex upper case", "0XaBcD", 43981.0},
		{"negative hex", "-0xff", -255.0},
		{"positive hex", "+0x10", 16.0},
		{"big hex rounds", "0x20000000000003", 9007199254740996.0},
		{"infinity", "Infinity", math.Inf(1)},
		{"negative infinity", "-Infinity", math.Inf(-1)},
		{"positive infinity", "+Infinity", math.Inf(1)},
		{"NaN", "NaN", math.NaN()},
		{"signed NaN", "-NaN", math.NaN()},
		{"overflow is infinity", "1e400", math.Inf(1)},
		{"underflow is zero", "1e-400", 0.0},
		{"large integer rounds", "9007199254740993", 9007199254740992.0},

		// Strings.
		{"single quotes inside double", `"it's"`, "it's"},
		{"double quotes inside single", `'say "hi"'`, `say "hi"`},
		{"escaped quotes", `['\'', "\""]`, arr{"'", `"`}},
		{"control escapes", `"\b\f\n\r\t\v"`, "\b\f\n\r\t\v"},
		{"null escape", `"a\0b"`, "a\x00b"},
		{"hex escape", `"\x41\x7e\xe9\xFF"`, "A~éÿ"},
		{"unicode escape", `"\u0041\u00e9\u4E2D"`, "Aé中"},
		{"surrogate pair", `"\uD83D\uDE00"`, "😀"},
		{"lone high surrogate", `"\uD83Dx"`, "\uFFFDx"},
		{"lone low surrogate", `"\uDE00"`, "\uFFFD"},
		{"reversed surrogates", `"\uDE00\uD83D"`, "\uFFFD\uFFFD"},
		{"pair across line continuation", "\"\\uD83D\\\n\\uDE00\"", "😀"},
		{"identity escapes", `"\a\c\/\\\'\"\ \😀"`, "ac/\\'\" 😀"},
		{"line continuation LF", "'a\\\nb'", "ab"},
		{"line continuation CR", "'a\\\rb'", "ab"},
		{"line continuation CRLF", "'a\\\r\nb'", "ab"},
		{"line continuation LS", "'a\\\u2028b'", "ab"},
		{"line continuation PS", "'a\\\u2029b'", "ab"},
		{"raw separators allowed", "'a\u2028b\u2029c'", "a\u2028b\u2029c"},
		{"raw tab and controls", "'a\tb\x01'", "a\tb\x01"},
		{"non-ASCII", `"日本語 🦞"`, "日本語 🦞"},
		{"escaped U+FFFD stays", `"\uFFFD"`, "\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := n.Interface(); !same(got, tt.want) {
				t.Errorf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

// The expected messages below were produced by the npm json5 package 2.2.3
// (JSON5.parse), which OpenClaw uses.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", "JSON5: invalid end of input at 1:1"},
		{"only whitespace", "  \n  ", "JSON5: invalid end of input at 2:3"},
		{"only comment", "// nothing here\n", "JSON5: invalid end of input at 2:1"},
		{"truncated openclaw.json", "{\n  \"agents\": {\n    \"defaults\": {\n", "JSON5: invalid end of input at 4:1"},
		{"truncated without final newline", "{\n  \"agents\": {\n    \"defaults\": {", "JSON5: invalid end of input at 3:18"},
		{"truncated after key", "{\n  \"agents\": {\n    \"defaults\"", "JSON5: invalid end of input at 3:15"},
		{"truncated after colon", "{\n  gateway: {\n    port:\n", "JSON5: invalid end of input at 4:1"},
		{"truncated in string", "{\n  name: \"open", "JSON5: invalid end of input at 2:14"},
		{"truncated array", "[1, 2,\n", "JSON5: invalid end of input at 2:1"},
		{"bad value at 3:5", "{\n a: 1,\n b: xyz}", "JSON5: invalid character 'x' at 3:5"},
		{"bad key character", "{\n  a: 1,\n  -b: 2\n}", "JSON5: invalid character '-' at 3:3"},
		{"missing comma", "{\n  a: 1\n  b: 2\n}", "JSON5: invalid character 'b' at 3:3"},
		{"missing colon", "{'a' 1}", "JSON5: invalid character '1' at 1:6"},
		{"missing value", "{a:}", "JSON5: invalid character '}' at 1:4"},
		{"empty member", "{,}", "JSON5: invalid character ',' at 1:2"},
		{"array hole", "[1,,2]", "JSON5: invalid character ',' at 1:4"},
		{"array missing comma", "[1 2]", "JSON5: invalid character '2' at 1:4"},
		{"extra close brace", "{a:1}}", "JSON5: invalid character '}' at 1:6"},
		{"extra close bracket", "[1]]", "JSON5: invalid character ']' at 1:4"},
		{"close brace at start", "}", "JSON5: invalid character '}' at 1:1"},
		{"two values", "1 2", "JSON5: invalid character '2' at 1:3"},
		{"two strings in array", `["a" "b"]`, `JSON5: invalid character '\"' at 1:6`},
		{"single quote where comma expected", "{a:1 'b':2}", `JSON5: invalid character '\'' at 1:6`},
		{"backslash where comma expected", `[1\]`, `JSON5: invalid character '\\' at 1:3`},
		{"hyphen in identifier", "{a-b:1}", "JSON5: invalid character '-' at 1:3"},
		{"digit starts identifier", "{1:2}", "JSON5: invalid character '1' at 1:2"},
		{"unterminated object", "{a", "JSON5: invalid end of input at 1:3"},
		{"unterminated object after value", "{a:1,", "JSON5: invalid end of input at 1:6"},
		{"unterminated array", "[", "JSON5: invalid end of input at 1:2"},
		{"unterminated block comment", "{ /* comment", "JSON5: invalid end of input at 1:13"},
		{"unterminated block comment star", "/* comment *", "JSON5: invalid end of input at 1:13"},
		{"lone slash", "/", "JSON5: invalid end of input at 1:2"},
		{"slash not comment", "{ /x }", "JSON5: invalid character 'x' at 1:4"},
		{"newline in string", "'abc\ndef'", `JSON5: invalid character '\n' at 2:0`},
		{"carriage return in string", "'a\rb'", `JSON5: invalid character '\r' at 1:3`},
		{"unterminated string", "'abc", "JSON5: invalid end of input at 1:5"},
		{"backslash at end", `"\`, "JSON5: invalid end of input at 1:3"},
		{"octal escape", `'\1'`, "JSON5: invalid character '1' at 1:3"},
		{"null escape before digit", `'\01'`, "JSON5: invalid character '1' at 1:4"},
		{"bad hex escape", `'\xZ1'`, "JSON5: invalid character 'Z' at 1:4"},
		{"short hex escape", `'\x4'`, `JSON5: invalid character '\'' at 1:5`},
		{"bad unicode escape", `'\u12G4'`, "JSON5: invalid character 'G' at 1:6"},
		{"separator in hex escape", `'\x '`, `JSON5: invalid character '\u2028' at 1:4`},
		{"identifier escape not u", `{\x41:1}`, "JSON5: invalid character 'x' at 1:3"},
		{"identifier escape truncated", `{\u00`, "JSON5: invalid end of input at 1:6"},
		{"identifier escape digit start", `{\u0031a:1}`, "JSON5: invalid identifier character at 1:2"},
		{"identifier escape hyphen", `{a\u002d:1}`, "JSON5: invalid identifier character at 1:3"},
		{"identifier escape surrogate", `{a\uD83D\uDE00:1}`, "JSON5: invalid identifier character at 1:3"},
		{"identifier escape space", `{a\u0020b:1}`, "JSON5: invalid identifier character at 1:3"},
		{"leading zero", "01", "JSON5: invalid character '1' at 1:2"},
		{"leading zero in array", "[00]", "JSON5: invalid character '0' at 1:3"},
		{"hex without digits", "0x", "JSON5: invalid end of input at 1:3"},
		{"bad hex digit", "0xG", "JSON5: invalid character 'G' at 1:3"},
		{"exponent without digits", "1e", "JSON5: invalid end of input at 1:3"},
		{"exponent sign without digits", "1e+x", "JSON5: invalid character 'x' at 1:4"},
		{"lone minus", "-", "JSON5: invalid end of input at 1:2"},
		{"plus then letter", "+x", "JSON5: invalid character 'x' at 1:2"},
		{"two decimal points", "1.2.3", "JSON5: invalid character '.' at 1:4"},
		{"point then exponent", ".e1", "JSON5: invalid character 'e' at 1:2"},
		{"lone point", ".", "JSON5: invalid end of input at 1:2"},
		{"hex fraction", "0x1.5", "JSON5: invalid character '.' at 1:4"},
		{"truncated Infinity", "Infinit", "JSON5: invalid end of input at 1:8"},
		{"Infinity suffix", "-Infinityx", "JSON5: invalid character 'x' at 1:10"},
		{"NaN suffix", "NaNa", "JSON5: invalid character 'a' at 1:4"},
		{"truncated null", "nul", "JSON5: invalid end of input at 1:4"},
		{"truncated true", "tru", "JSON5: invalid end of input at 1:4"},
		{"misspelled false", "flase", "JSON5: invalid character 'l' at 1:2"},
		{"misspelled false 2", "fasle", "JSON5: invalid character 's' at 1:3"},
		{"undefined", "undefined", "JSON5: invalid character 'u' at 1:1"},
		{"control character", "\x01", `JSON5: invalid character '\x01' at 1:1`},
		{"NUL character", "\x00", `JSON5: invalid character '\0' at 1:1`},
		{"unit separator", "[\x1f]", `JSON5: invalid character '\x1f' at 1:2`},
		{"DEL character", "\x7f", "JSON5: invalid character '\x7f' at 1:1"},
		{"tab is fine but at sign is not", `	@`, "JSON5: invalid character '@' at 1:2"},
		{"emoji as value", "😀 x", "JSON5: invalid character '😀' at 1:2"},
		{"after emoji string", "'😀'x", "JSON5: invalid character 'x' at 1:5"},
		{"emoji as key", "{😀:1}", "JSON5: invalid character '😀' at 1:3"},
		{"CR does not start a line", "\r\r x", "JSON5: invalid character 'x' at 1:4"},
		{"CRLF counts once", "\r\n\r\n x", "JSON5: invalid character 'x' at 3:2"},
		{"LS does not start a line", `  x`, "JSON5: invalid character 'x' at 1:3"},
		{"NBSP and BOM are whitespace", "\ufeff\u00a0\u3000x", "JSON5: invalid character 'x' at 1:4"},
		{"comment then garbage", "{} // ok\n/* ok */ ]", "JSON5: invalid character ']' at 2:10"},
		{"string key newline", "{'a\nb':1}", `JSON5: invalid character '\n' at 2:0`},
		{"line continuation then bad", "'a\\\nb\nc'", `JSON5: invalid character '\n' at 3:0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse(%q) = %#v, want error %q", tt.in, n.Interface(), tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q) error\n got  %s\n want %s", tt.in, err, tt.want)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
		})
	}
}

func TestTruncatedOpenClawConfig(t *testing.T) {
	// What OpenClaw prints for a file cut off after a newline.
	_, err := Parse([]byte("{\n  \"agents\": {\n    \"defaults\": {\n"))
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a *SyntaxError", err)
	}
	want := SyntaxError{Line: 4, Column: 1, Msg: "invalid end of input"}
	if *se != want {
		t.Errorf("got %+v, want %+v", *se, want)
	}
	if got := se.Error(); got != "JSON5: invalid end of input at 4:1" {
		t.Errorf("Error() = %q", got)
	}
}

func TestInvalidUTF8(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"\xff", "JSON5: invalid UTF-8 encoding at 1:1"},
		{"{a: 'x\xc3'}", "JSON5: invalid UTF-8 encoding at 1:7"},
		{"{\n  // caf\xe9\n}", "JSON5: invalid UTF-8 encoding at 2:9"},
		{"'😀\xed\xa0\x80'", "JSON5: invalid UTF-8 encoding at 1:4"}, // encoded surrogate
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in))
		var se *SyntaxError
		if !errors.As(err, &se) || err.Error() != tt.want {
			t.Errorf("Parse(%q) error = %v, want %s", tt.in, err, tt.want)
		}
	}
}

func TestPositions(t *testing.T) {
	src := "{\n" +
		"  a: 1,\n" +
		"  'b': [true, -2.5],\n" +
		"\t\"😀\": {c: null},\r\n" +
		"  \\u0064: 'x', /* c */ e: +.5,\n" +
		"}"
	n, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if n.Pos != (Pos{1, 1}) {
		t.Errorf("root at %v", n.Pos)
	}
	wantKeys := []struct {
		name     string
		key, val Pos
	}{
		{"a", Pos{2, 3}, Pos{2, 6}},
		{"b", Pos{3, 3}, Pos{3, 8}},
		{"😀", Pos{4, 2}, Pos{4, 8}}, // the emoji counts as two columns
		{"d", Pos{5, 3}, Pos{5, 11}},
		{"e", Pos{5, 24}, Pos{5, 27}},
	}
	if len(n.Members) != len(wantKeys) {
		t.Fatalf("got %d members, want %d", len(n.Members), len(wantKeys))
	}
	for i, w := range wantKeys {
		m := n.Members[i]
		if m.Key != w.name || m.KeyPos != w.key || m.Value.Pos != w.val {
			t.Errorf("member %d: got %q key at %v value at %v, want %q at %v, %v",
				i, m.Key, m.KeyPos, m.Value.Pos, w.name, w.key, w.val)
		}
	}
	b := n.Get("b")
	if got := []Pos{b.Elems[0].Pos, b.Elems[1].Pos}; got[0] != (Pos{3, 9}) || got[1] != (Pos{3, 15}) {
		t.Errorf("array elements at %v", got)
	}
	if c := n.Get("😀", "c"); c == nil || c.Pos != (Pos{4, 12}) {
		t.Errorf("c = %+v", c)
	}
	if e := n.Get("e"); e.Raw != "+.5" || e.Num != 0.5 {
		t.Errorf("e = %+v", e)
	}
}

func TestDuplicateKeys(t *testing.T) {
	// Enough keys to exercise both the linear scan and the index map.
	var sb strings.Builder
	sb.WriteString("{z: 0, a: 1,\n")
	for i := range 40 {
		sb.WriteString("k" + strconv.Itoa(i) + ": 0,\n")
	}
	sb.WriteString("a: 2, k1: 'last', z: 3}")
	n, err := Parse([]byte(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Members) != 42 {
		t.Fatalf("got %d members, want 42", len(n.Members))
	}
	if n.Members[0].Key != "z" || n.Members[1].Key != "a" || n.Members[3].Key != "k1" {
		t.Errorf("order not kept: %q %q %q", n.Members[0].Key, n.Members[1].Key, n.Members[3].Key)
	}
	if n.Get("z").Num != 3 || n.Get("a").Num != 2 || n.Get("k1").Str != "last" {
		t.Errorf("last value did not win: %v", n.Interface())
	}
	if n.Members[1].KeyPos != (Pos{42, 1}) {
		t.Errorf("KeyPos of repeated key = %v, want that of its last appearance", n.Members[1].KeyPos)
	}
}

func TestNesting(t *testing.T) {
	deep := func(open, close string, depth int) []byte {
		return []byte(strings.Repeat(open, depth) + "1" + strings.Repeat(close, depth))
	}
	if _, err := Parse(deep("[", "]", MaxDepth)); err != nil {
		t.Errorf("depth %d arrays: %v", MaxDepth, err)
	}
	if _, err := Parse(deep("{a:", "}", MaxDepth)); err != nil {
		t.Errorf("depth %d objects: %v", MaxDepth, err)
	}
	_, err := Parse(deep("[", "]", MaxDepth+1))
	if err == nil || err.Error() != "JSON5: maximum nesting depth of 1000 exceeded at 1:1001" {
		t.Errorf("depth %d: %v", MaxDepth+1, err)
	}
	_, err = Parse(deep("{a:[", "]}", MaxDepth))
	if err == nil || err.Error() != "JSON5: maximum nesting depth of 1000 exceeded at 1:2001" {
		t.Errorf("mixed nesting: %v", err)
	}
	// Far deeper input must fail cleanly, not overflow the stack.
	var se *SyntaxError
	if _, err := Parse([]byte(strings.Repeat("[", 1_000_000))); !errors.As(err, &se) {
		t.Errorf("million brackets: %v", err)
	}
	// Siblings do not add up.
	wide := strings.Repeat(string(deep("[", "]", 500))+",", 10)
	if _, err := Parse([]byte("[" + wide + "]")); err != nil {
		t.Errorf("wide input: %v", err)
	}
}

func TestGet(t *testing.T) {
	n, err := Parse([]byte(`{a: {b: {c: 'deep'}, list: [1]}, s: 'str'}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Get("a", "b", "c"); got == nil || got.Str != "deep" {
		t.Errorf("Get(a, b, c) = %+v", got)
	}
	if n.Get() != n {
		t.Error("Get() should return the node itself")
	}
	for _, keys := range [][]string{{"x"}, {"a", "x"}, {"s", "x"}, {"a", "list", "0"}, {"a", "b", "c", "d"}} {
		if got := n.Get(keys...); got != nil {
			t.Errorf("Get(%q) = %+v, want nil", keys, got)
		}
	}
	var nilNode *Node
	if nilNode.Get("a") != nil || nilNode.Interface() != nil {
		t.Error("nil node not handled")
	}
}

func TestKindString(t *testing.T) {
	want := []string{"null", "bool", "number", "string", "array", "object", "Kind(9)"}
	for i, k := range []Kind{Null, Bool, Number, String, Array, Object, 9} {
		if k.String() != want[i] {
			t.Errorf("Kind(%d).String() = %q", int(k), k.String())
		}
	}
}

func TestRaw(t *testing.T) {
	for _, lit := range []string{"0", "-0", "+1", ".5", "5.", "1e3", "-2.5E-3", "0x1F", "-0XfF", "Infinity", "-Infinity", "+NaN"} {
		n, err := Parse([]byte(" [" + lit + "] "))
		if err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		if got := n.Elems[0]; got.Kind != Number || got.Raw != lit {
			t.Errorf("%s: got kind %v raw %q", lit, got.Kind, got.Raw)
		}
	}
}

func TestRealisticConfig(t *testing.T) {
	data, err := os.ReadFile("testdata/openclaw.json5")
	if err != nil {
		t.Fatal(err)
	}
	n, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		keys []string
		want any
	}{
		{[]string{"agents", "defaults", "model", "primary"}, "anthropic/claude-opus-4-5"},
		{[]string{"agents", "defaults", "timeoutSeconds"}, 600.0},
		{[]string{"agents", "defaults", "models", "openai/gpt-5.2", "alias"}, "gpt"},
		{[]string{"channels", "telegram", "groups", "-1001234567890", "requireMention"}, false},
		{[]string{"gateway", "port"}, 18789.0},
		{[]string{"gateway", "auth", "token"}, "0xDEADBEEF-not-a-real-token"},
		{[]string{"messages", "ackReaction"}, "👀"},
		{[]string{"limits", "hex"}, 32767.0},
		{[]string{"limits", "negativeHex"}, -16.0},
		{[]string{"limits", "unlimited"}, math.Inf(1)},
		{[]string{"motd"}, "Line one line two"},
	}
	for _, c := range checks {
		if got := n.Get(c.keys...).Interface(); !same(got, c.want) {
			t.Errorf("Get(%q) = %#v, want %#v", c.keys, got, c.want)
		}
	}
	list := n.Get("agents", "list")
	if list == nil || len(list.Elems) != 2 || list.Elems[0].Get("identity", "emoji").Str != "🦞" {
		t.Errorf("agents.list = %#v", list.Interface())
	}
	if got := n.Get("gateway").Pos; got != (Pos{67, 12}) {
		t.Errorf("gateway at %v", got)
	}
}

func TestUnmarshal(t *testing.T) {
	type agent struct {
		ID      string `json:"id"`
		Default bool   `json:"default"`
	}
	var cfg struct {
		Gateway struct {
			Port int    `json:"port"`
			Bind string `json:"bind"`
		} `json:"gateway"`
		Agents []agent        `json:"agents"`
		Limits map[string]int `json:"limits"`
		Tags   []string       `json:"tags"`
		Big    float64        `json:"big"`
		Tiny   float64        `json:"tiny"`
		Text   string         `json:"text"`
		Any    any            `json:"any"`
	}
	src := `// config
	{
		gateway: {port: 0x4965, bind: 'loopback',},
		agents: [{id: "main", default: true}, {id: 'work'}],
		limits: {a: 1e6, b: -0, c: +7.},
		tags: ['a', "b\u0000c", "<&>", "\u2028"],
		big: 1e300, tiny: 5e-324,
		text: 'tab\there "quoted" back\\slash \x01',
		any: {z: [null, false]},
	}`
	if err := Unmarshal([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Gateway.Port != 0x4965 || cfg.Gateway.Bind != "loopback" {
		t.Errorf("gateway = %+v", cfg.Gateway)
	}
	if !reflect.DeepEqual(cfg.Agents, []agent{{"main", true}, {"work", false}}) {
		t.Errorf("agents = %+v", cfg.Agents)
	}
	if !reflect.DeepEqual(cfg.Limits, map[string]int{"a": 1000000, "b": 0, "c": 7}) {
		t.Errorf("limits = %v", cfg.Limits)
	}
	if !reflect.DeepEqual(cfg.Tags, []string{"a", "b\x00c", "<&>", "\u2028"}) {
		t.Errorf("tags = %q", cfg.Tags)
	}
	if cfg.Big != 1e300 || cfg.Tiny != 5e-324 {
		t.Errorf("big, tiny = %v, %v", cfg.Big, cfg.Tiny)
	}
	if cfg.Text != "tab\there \"quoted\" back\\slash \x01" {
		t.Errorf("text = %q", cfg.Text)
	}
	if !reflect.DeepEqual(cfg.Any, map[string]any{"z": []any{nil, false}}) {
		t.Errorf("any = %#v", cfg.Any)
	}

	// Syntax errors come back unchanged.
	var v any
	err := Unmarshal([]byte("{\n  a: 1,\n  b: x\n}"), &v)
	var se *SyntaxError
	if !errors.As(err, &se) || err.Error() != "JSON5: invalid character 'x' at 3:6" {
		t.Errorf("syntax error = %v", err)
	}

	// Numbers without a JSON form are an error, not a panic.
	for _, src := range []string{"NaN", "[Infinity]", "{a: {b: -Infinity}}"} {
		err := Unmarshal([]byte(src), &v)
		if err == nil || !strings.Contains(err.Error(), "has no JSON representation") {
			t.Errorf("Unmarshal(%q) error = %v", src, err)
		}
	}

	// Type mismatches are reported by encoding/json.
	var n struct{ A int }
	var te *json.UnmarshalTypeError
	if err := Unmarshal([]byte("{A: 'x'}"), &n); !errors.As(err, &te) {
		t.Errorf("type mismatch error = %v", err)
	}
}

func TestMarshalJSON(t *testing.T) {
	n, err := Parse([]byte(`{z: 1, a: [.5, 'x', null, true], m: {}, "q\"": 1e21, e: 1e-7, k: 0x10}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"z":1,"a":[0.5,"x",null,true],"m":{},"q\"":1e+21,"e":1e-07,"k":16}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	// Hand-built nodes with invalid UTF-8 still give valid JSON.
	b, err = (&Node{Kind: String, Str: "a\xffb"}).MarshalJSON()
	if err != nil || string(b) != `"a\ufffdb"` {
		t.Errorf("got %s, %v", b, err)
	}
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/openclaw.json5")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
