package json5

import (
	"math"
	"strconv"
	"unicode"
	"unicode/utf8"
)

const (
	// MaxDepth is how deeply arrays and objects may be nested. Deeper input
	// is rejected with a *SyntaxError instead of exhausting the stack.
	MaxDepth = 1000

	// eof is what peek and read return at the end of the input.
	eof rune = -1

	// Messages of SyntaxError, worded as by the npm json5 package (the last
	// two have no npm counterpart).
	msgEOF        = "invalid end of input"
	msgIdentifier = "invalid identifier character"
	msgUTF8       = "invalid UTF-8 encoding"
	msgDepth      = "maximum nesting depth of 1000 exceeded" // keep in step with MaxDepth

	// linearKeyLimit is how many members an object may have before duplicate
	// keys are looked up in a map instead of by a linear scan.
	linearKeyLimit = 16
)

// SyntaxError describes malformed input. Error() renders it exactly like the
// npm json5 package: "JSON5: <Msg> at <Line>:<Column>".
type SyntaxError struct {
	Line, Column int
	Msg          string // e.g. "invalid character 'x'", "invalid end of input"
}

func (e *SyntaxError) Error() string {
	return "JSON5: " + e.Msg + " at " + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Column)
}

// Parse parses a complete JSON5 document: one value of any type, surrounded
// by nothing but whitespace and comments. Every error it returns is a
// *SyntaxError.
func Parse(data []byte) (*Node, error) {
	if !utf8.Valid(data) {
		return nil, invalidUTF8(data)
	}
	p := &parser{data: data, line: 1}
	if err := p.skipSpace(); err != nil {
		return nil, err
	}
	n, err := p.parseValue()
	if err != nil {
		return nil, err
	}
	if err := p.skipSpace(); err != nil {
		return nil, err
	}
	if r := p.read(); r != eof {
		return nil, p.invalidChar(r)
	}
	return n, nil
}

// parser is a recursive-descent JSON5 parser. Its line and column
// bookkeeping mirrors the npm json5 package: line and col describe the last
// character read (col is 0 right after a line feed), and reading past the end
// of the input still advances col by one. An error found while looking at a
// character is reported after reading that character, so it points at it.
type parser struct {
	data  []byte // the input, valid UTF-8
	pos   int    // byte offset of the next character
	line  int    // line of the last character read
	col   int    // column of the last character read, in UTF-16 units
	depth int    // current nesting depth of arrays and objects
	buf   []byte // scratch space for decoding strings and identifiers
}

// peek returns the next character without consuming it, or eof.
func (p *parser) peek() rune {
	if p.pos >= len(p.data) {
		return eof
	}
	if c := p.data[p.pos]; c < utf8.RuneSelf {
		return rune(c)
	}
	r, _ := utf8.DecodeRune(p.data[p.pos:])
	return r
}

// read consumes and returns the next character (or eof), updating line and
// column exactly as the npm json5 package does.
func (p *parser) read() rune {
	r := p.peek()
	switch {
	case r == eof:
		p.col++
		return eof
	case r == '\n':
		p.line++
		p.col = 0
	case r > 0xFFFF:
		p.col += 2 // a surrogate pair in UTF-16
	default:
		p.col++
	}
	p.pos += utf8.RuneLen(r)
	return r
}

// next returns the position of the next character, where a value or key
// about to be parsed starts.
func (p *parser) next() Pos {
	return Pos{Line: p.line, Column: p.col + 1}
}

// invalidChar reports the character r that was just read, or the end of the
// input if r is eof.
func (p *parser) invalidChar(r rune) error {
	if r == eof {
		return &SyntaxError{Line: p.line, Column: p.col, Msg: msgEOF}
	}
	return &SyntaxError{Line: p.line, Column: p.col, Msg: "invalid character '" + formatChar(r) + "'"}
}

// invalidIdentifier reports a \uXXXX escape, just read, that does not denote
// a character allowed at its place in an identifier. Like npm json5 it
// points at the backslash, five columns back.
func (p *parser) invalidIdentifier() error {
	return &SyntaxError{Line: p.line, Column: p.col - 5, Msg: msgIdentifier}
}

// formatChar renders a character for an error message like npm json5 does.
func formatChar(r rune) string {
	switch r {
	case '\'':
		return `\'`
	case '"':
		return `\"`
	case '\\':
		return `\\`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	case '\v':
		return `\v`
	case 0:
		return `\0`
	case '\u2028':
		return `\u2028`
	case '\u2029':
		return `\u2029`
	}
	if r < ' ' {
		const hex = "0123456789abcdef"
		return `\x` + string([]byte{hex[r>>4], hex[r&0xF]})
	}
	return string(r)
}

// invalidUTF8 reports the first invalid byte of data at its position.
func invalidUTF8(data []byte) error {
	p := &parser{data: data, line: 1}
	for {
		r, size := utf8.DecodeRune(p.data[p.pos:])
		if r == utf8.RuneError && size <= 1 {
			// size 0 cannot happen: data is known to be invalid.
			return &SyntaxError{Line: p.line, Column: p.col + 1, Msg: msgUTF8}
		}
		p.read()
	}
}

// isSpace reports whether r is JSON5 whitespace.
func isSpace(r rune) bool {
	switch r {
	case '\t', '\v', '\f', ' ', '\n', '\r', '\u00A0', '\uFEFF', '\u2028', '\u2029':
		return true
	}
	return r >= utf8.RuneSelf && unicode.Is(unicode.Zs, r)
}

// isLineTerminator reports whether r ends a // comment.
func isLineTerminator(r rune) bool {
	return r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029'
}

func isDigit(r rune) bool { return '0' <= r && r <= '9' }

func isHexDigit(r rune) bool {
	return isDigit(r) || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F'
}

// isIDStart reports whether r may start an ECMAScript 5.1 IdentifierName.
func isIDStart(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', r == '$', r == '_':
		return true
	case r < utf8.RuneSelf:
		return false
	}
	return unicode.In(r, unicode.L, unicode.Nl)
}

// isIDPart reports whether r may continue an ECMAScript 5.1 IdentifierName.
func isIDPart(r rune) bool {
	switch {
	case isIDStart(r), isDigit(r), r == '\u200C', r == '\u200D':
		return true
	case r < utf8.RuneSelf:
		return false
	}
	return unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Pc)
}

// skipSpace skips whitespace and comments. It stops in front of the first
// other character, or at the end of the input.
func (p *parser) skipSpace() error {
	for {
		r := p.peek()
		switch {
		case isSpace(r):
			p.read()
		case r == '/':
			p.read()
			switch p.peek() {
			case '*':
				p.read()
				if err := p.skipBlockComment(); err != nil {
					return err
				}
			case '/':
				p.read()
				p.skipLineComment()
			default:
				return p.invalidChar(p.read())
			}
		default:
			return nil
		}
	}
}

// skipBlockComment skips the rest of a /* comment, up to and including */.
func (p *parser) skipBlockComment() error {
	for {
		r := p.read()
		if r == eof {
			return p.invalidChar(r)
		}
		if r == '*' && p.peek() == '/' {
			p.read()
			return nil
		}
	}
}

// skipLineComment skips the rest of a // comment including the line
// terminator; at the end of the input it stops without reading past it.
func (p *parser) skipLineComment() {
	for {
		r := p.peek()
		if r == eof {
			return
		}
		p.read()
		if isLineTerminator(r) {
			return
		}
	}
}

// parseValue parses the value that starts at the next character. Leading
// whitespace must already have been skipped.
func (p *parser) parseValue() (*Node, error) {
	start := p.next()
	switch r := p.peek(); {
	case r == '{':
		return p.parseObject(start)
	case r == '[':
		return p.parseArray(start)
	case r == 'n':
		if err := p.literal("null"); err != nil {
			return nil, err
		}
		return &Node{Kind: Null, Pos: start}, nil
	case r == 't':
		if err := p.literal("true"); err != nil {
			return nil, err
		}
		return &Node{Kind: Bool, Pos: start, Bool: true}, nil
	case r == 'f':
		if err := p.literal("false"); err != nil {
			return nil, err
		}
		return &Node{Kind: Bool, Pos: start}, nil
	case r == '"' || r == '\'':
		s, err := p.parseString()
		if err != nil {
			return nil, err
		}
		return &Node{Kind: String, Pos: start, Str: s}, nil
	case r == '-' || r == '+' || r == '.' || r == 'I' || r == 'N' || isDigit(r):
		return p.parseNumber(start)
	default:
		return nil, p.invalidChar(p.read())
	}
}

// literal consumes word, which the next character is known to start.
func (p *parser) literal(word string) error {
	p.read()
	for _, want := range word[1:] {
		if p.peek() != want {
			return p.invalidChar(p.read())
		}
		p.read()
	}
	return nil
}

// readDigits consumes decimal digits, if any.
func (p *parser) readDigits() {
	for isDigit(p.peek()) {
		p.read()
	}
}

// readExponent consumes an exponent part ("e", optional sign, digits), if
// one follows.
func (p *parser) readExponent() error {
	if r := p.peek(); r != 'e' && r != 'E' {
		return nil
	}
	p.read()
	if r := p.peek(); r == '+' || r == '-' {
		p.read()
	}
	if !isDigit(p.peek()) {
		return p.invalidChar(p.read())
	}
	p.readDigits()
	return nil
}

// parseNumber parses a numeric literal: decimal or hexadecimal with an
// optional sign, Infinity or NaN.
func (p *parser) parseNumber(start Pos) (*Node, error) {
	begin := p.pos
	neg := false
	r := p.peek()
	if r == '-' || r == '+' {
		p.read()
		neg = r == '-'
		r = p.peek()
		if r != '.' && r != 'I' && r != 'N' && !isDigit(r) {
			return nil, p.invalidChar(p.read())
		}
	}
	digits := p.pos // where the literal proper starts, after the sign
	var v float64
	switch {
	case r == 'I':
		if err := p.literal("Infinity"); err != nil {
			return nil, err
		}
		v = math.Inf(1)
	case r == 'N':
		if err := p.literal("NaN"); err != nil {
			return nil, err
		}
		v = math.NaN()
	case r == '0' && p.pos+1 < len(p.data) && (p.data[p.pos+1] == 'x' || p.data[p.pos+1] == 'X'):
		p.read()
		p.read()
		if !isHexDigit(p.peek()) {
			return nil, p.invalidChar(p.read())
		}
		for isHexDigit(p.peek()) {
			p.read()
		}
		// ParseFloat rounds long hex mantissas correctly, like Number().
		v = parseFloat("0x" + string(p.data[digits+2:p.pos]) + "p0")
	case r == '.':
		p.read()
		if !isDigit(p.peek()) {
			return nil, p.invalidChar(p.read())
		}
		p.readDigits()
		if err := p.readExponent(); err != nil {
			return nil, err
		}
		v = parseFloat(string(p.data[digits:p.pos]))
	default: // a decimal digit; a leading 0 is not followed by more digits
		p.read()
		if r != '0' {
			p.readDigits()
		}
		if p.peek() == '.' {
			p.read()
			p.readDigits()
		}
		if err := p.readExponent(); err != nil {
			return nil, err
		}
		v = parseFloat(string(p.data[digits:p.pos]))
	}
	if neg {
		v = -v
	}
	return &Node{Kind: Number, Pos: start, Num: v, Raw: string(p.data[begin:p.pos])}, nil
}

// parseFloat converts a literal already checked by the lexer. Values out of
// range become ±Inf or 0, as in JavaScript.
func parseFloat(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// parseString parses a single- or double-quoted string.
func (p *parser) parseString() (string, error) {
	quote := p.read()
	b := p.buf[:0]
	// high holds a high surrogate from a \u escape until we know whether the
	// next escape completes the pair. 0 means none is pending.
	var high rune
	flush := func() {
		if high != 0 {
			b = utf8.AppendRune(b, utf8.RuneError)
			high = 0
		}
	}
	for {
		r := p.read()
		switch r {
		case quote:
			flush()
			p.buf = b
			return string(b), nil
		case '\n', '\r', eof:
			return "", p.invalidChar(r)
		case '\\':
			// handled below
		default:
			flush()
			b = utf8.AppendRune(b, r)
			continue
		}

		// An escape sequence.
		r = p.peek()
		var out rune
		switch r {
		case 'b':
			out = '\b'
		case 'f':
			out = '\f'
		case 'n':
			out = '\n'
		case 'r':
			out = '\r'
		case 't':
			out = '\t'
		case 'v':
			out = '\v'
		case '0':
			p.read()
			if isDigit(p.peek()) {
				return "", p.invalidChar(p.read())
			}
			flush()
			b = append(b, 0)
			continue
		case 'x':
			p.read()
			v, err := p.hexDigits(2)
			if err != nil {
				return "", err
			}
			flush()
			b = utf8.AppendRune(b, v)
			continue
		case 'u':
			p.read()
			u, err := p.hexDigits(4)
			if err != nil {
				return "", err
			}
			switch {
			case 0xDC00 <= u && u <= 0xDFFF && high != 0:
				b = utf8.AppendRune(b, 0x10000+(high-0xD800)<<10+(u-0xDC00))
				high = 0
			case 0xD800 <= u && u <= 0xDBFF:
				flush()
				high = u
			default:
				flush()
				b = utf8.AppendRune(b, u) // a lone low surrogate becomes U+FFFD
			}
			continue
		case '\n', '\u2028', '\u2029':
			// Line continuation: contributes nothing.
			p.read()
			continue
		case '\r':
			p.read()
			if p.peek() == '\n' {
				p.read()
			}
			continue
		case '1', '2', '3', '4', '5', '6', '7', '8', '9', eof:
			return "", p.invalidChar(p.read())
		default:
			out = r // any other character stands for itself
		}
		p.read()
		flush()
		b = utf8.AppendRune(b, out)
	}
}

// hexDigits reads n hexadecimal digits and returns their value.
func (p *parser) hexDigits(n int) (rune, error) {
	var v rune
	for range n {
		r := p.peek()
		if !isHexDigit(r) {
			return 0, p.invalidChar(p.read())
		}
		p.read()
		switch {
		case r <= '9':
			v = v<<4 | (r - '0')
		case r >= 'a':
			v = v<<4 | (r - 'a' + 10)
		default:
			v = v<<4 | (r - 'A' + 10)
		}
	}
	return v, nil
}

// parseIdentifier parses an unquoted object key. The next character is
// known to be a backslash or an IdentifierStart character.
func (p *parser) parseIdentifier() (string, error) {
	b := p.buf[:0]
	first := true
	for {
		r := p.peek()
		switch {
		case r == '\\':
			p.read()
			if p.peek() != 'u' {
				return "", p.invalidChar(p.read())
			}
			p.read()
			u, err := p.hexDigits(4)
			if err != nil {
				return "", err
			}
			if first && !isIDStart(u) || !first && !isIDPart(u) {
				return "", p.invalidIdentifier()
			}
			b = utf8.AppendRune(b, u)
		case first || isIDPart(r):
			p.read()
			b = utf8.AppendRune(b, r)
		default:
			p.buf = b
			return string(b), nil
		}
		first = false
	}
}

// enter records one more level of nesting; the bracket was just read.
func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return &SyntaxError{Line: p.line, Column: p.col, Msg: msgDepth}
	}
	return nil
}

// parseArray parses an array; the next character is '['.
func (p *parser) parseArray(start Pos) (*Node, error) {
	p.read()
	if err := p.enter(); err != nil {
		return nil, err
	}
	n := &Node{Kind: Array, Pos: start, Elems: []*Node{}}
	for {
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.peek() == ']' { // empty array or trailing comma
			p.read()
			p.depth--
			return n, nil
		}
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		n.Elems = append(n.Elems, v)
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		switch r := p.read(); r {
		case ',':
		case ']':
			p.depth--
			return n, nil
		default:
			return nil, p.invalidChar(r)
		}
	}
}

// parseObject parses an object; the next character is '{'. A key given
// more than once keeps the position of its first appearance in Members but
// takes the value (and KeyPos) of its last one, like JSON.parse.
func (p *parser) parseObject(start Pos) (*Node, error) {
	p.read()
	if err := p.enter(); err != nil {
		return nil, err
	}
	n := &Node{Kind: Object, Pos: start, Members: []Member{}}
	var index map[string]int // key -> member index, once the object is big
	for {
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		keyPos := p.next()
		var key string
		var err error
		switch r := p.peek(); {
		case r == '}': // empty object or trailing comma
			p.read()
			p.depth--
			return n, nil
		case r == '"' || r == '\'':
			key, err = p.parseString()
		case r == '\\' || isIDStart(r):
			key, err = p.parseIdentifier()
		default:
			return nil, p.invalidChar(p.read())
		}
		if err != nil {
			return nil, err
		}
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if r := p.read(); r != ':' {
			return nil, p.invalidChar(r)
		}
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		index = addMember(n, index, Member{Key: key, KeyPos: keyPos, Value: v})
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		switch r := p.read(); r {
		case ',':
		case '}':
			p.depth--
			return n, nil
		default:
			return nil, p.invalidChar(r)
		}
	}
}

// addMember adds m to object n, replacing the member with the same key if
// there is one. index maps keys to member indexes; it is nil while the
// object is small and is built here once it grows. The (possibly new) index
// is returned.
func addMember(n *Node, index map[string]int, m Member) map[string]int {
	i := -1
	if index != nil {
		if j, ok := index[m.Key]; ok {
			i = j
		}
	} else {
		for j := range n.Members {
			if n.Members[j].Key == m.Key {
				i = j
				break
			}
		}
	}
	if i >= 0 {
		n.Members[i].KeyPos = m.KeyPos
		n.Members[i].Value = m.Value
		return index
	}
	n.Members = append(n.Members, m)
	switch {
	case index != nil:
		index[m.Key] = len(n.Members) - 1
	case len(n.Members) > linearKeyLimit:
		index = make(map[string]int, 2*len(n.Members))
		for j, mm := range n.Members {
			index[mm.Key] = j
		}
	}
	return index
}
