package json5

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, that every error is a sensible
// *SyntaxError, that documents with finite numbers survive a round trip
// through encoding/json, and that Parse agrees with encoding/json on plain
// JSON. Seeds live in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{a: 1, 'b': [2, "three",], /* c */ d: null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Parse(data)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError: %v", err, err)
			}
			if n != nil {
				t.Fatal("non-nil node returned with an error")
			}
			if se.Line < 1 || se.Column < 0 || se.Msg == "" || !strings.HasPrefix(err.Error(), "JSON5: ") {
				t.Fatalf("malformed error %+v", *se)
			}
			checkJSONSubset(t, data, se)
			return
		}
		checkJSONSubset(t, data, nil)

		v := n.Interface()
		if !allFinite(n) {
			if _, err := n.MarshalJSON(); err == nil {
				t.Fatal("MarshalJSON accepted NaN or Infinity")
			}
			return
		}

		// Round trip through encoding/json.
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		n2, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(json.Marshal(v)) = %v for %s", err, b)
		}
		if got := n2.Interface(); !same(got, v) {
			t.Fatalf("round trip changed the value:\n got  %#v\n want %#v", got, v)
		}

		// Round trip through our own, order-keeping JSON encoding.
		b, err = n.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		n3, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(MarshalJSON()) = %v for %s", err, b)
		}
		if got := n3.Interface(); !same(got, v) {
			t.Fatalf("MarshalJSON round trip changed the value:\n got  %#v\n want %#v", got, v)
		}
		var w any
		if err := Unmarshal(data, &w); err != nil {
			t.Fatalf("Unmarshal: %v", err)
		}
		if !same(w, v) {
			t.Fatalf("Unmarshal gave %#v, want %#v", w, v)
		}
	})
}

// checkJSONSubset verifies that input which encoding/json accepts is
// accepted by Parse with the same result (JSON is a subset of JSON5), unless
// it was too deeply nested for Parse. perr is Parse's error, if any.
func checkJSONSubset(t *testing.T, data []byte, perr *SyntaxError) {
	if !utf8.Valid(data) { // encoding/json tolerates invalid UTF-8; we do not
		return
	}
	var want any
	if json.Unmarshal(data, &want) != nil {
		return
	}
	if perr != nil {
		if perr.Msg == msgDepth {
			return
		}
		t.Fatalf("valid JSON rejected: %v", perr)
	}
	n, err := Parse(data)
	if err != nil {
		t.Fatalf("valid JSON rejected: %v", err)
	}
	if got := n.Interface(); !same(got, want) {
		t.Fatalf("JSON value differs from encoding/json:\n got  %#v\n want %#v", got, want)
	}
}

// allFinite reports whether every number in n is finite.
func allFinite(n *Node) bool {
	switch n.Kind {
	case Number:
		return !math.IsNaN(n.Num) && !math.IsInf(n.Num, 0)
	case Array:
		for _, e := range n.Elems {
			if !allFinite(e) {
				return false
			}
		}
	case Object:
		for _, m := range n.Members {
			if !allFinite(m.Value) {
				return false
			}
		}
	}
	return true
}
