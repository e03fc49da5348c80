package kql

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tPunct
)

type token struct {
	kind tokKind
	text string // identifier, punctuation, number text, or the decoded string
	pos  int    // 0-based byte offset
}

func lex(text string) ([]token, error) {
	var out []token
	i := 0
	for i < len(text) {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '/' && i+1 < len(text) && text[i+1] == '/':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case isIdentStart(c):
			j := i + 1
			for j < len(text) && isIdentPart(text[j]) {
				j++
			}
			// Verbatim strings @'...' / @"..." are handled below; a bare identifier here.
			out = append(out, token{tIdent, text[i:j], i})
			i = j
		case c == '@' && i+1 < len(text) && (text[i+1] == '\'' || text[i+1] == '"'):
			q := text[i+1]
			j := i + 2
			for j < len(text) && text[j] != q {
				j++
			}
			if j >= len(text) {
				return nil, errAt(text, i, "unterminated string literal")
			}
			out = append(out, token{tString, text[i+2 : j], i})
			i = j + 1
		case c == '\'' || c == '"':
			s, n, err := lexString(text[i:])
			if err != "" {
				return nil, errAt(text, i, "%s", err)
			}
			out = append(out, token{tString, s, i})
			i += n
		case c >= '0' && c <= '9':
			j := i
			for j < len(text) && (text[j] >= '0' && text[j] <= '9' || text[j] == '.') {
				j++
			}
			if _, err := strconv.ParseFloat(text[i:j], 64); err != nil {
				return nil, errAt(text, i, "bad number %q", text[i:j])
			}
			out = append(out, token{tNumber, text[i:j], i})
			i = j
		default:
			two := ""
			if i+1 < len(text) {
				two = text[i : i+2]
			}
			switch two {
			case "==", "!=", "=~", "!~":
				out = append(out, token{tPunct, two, i})
				i += 2
				continue
			}
			switch c {
			case '|', ',', '(', ')', '[', ']', '.', '=', '-':
				out = append(out, token{tPunct, string(c), i})
				i++
			default:
				r, _ := utf8.DecodeRuneInString(text[i:])
				return nil, errAt(text, i, "unexpected character %q", r)
			}
		}
	}
	out = append(out, token{tEOF, "", len(text)})
	return out, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// lexString decodes a '...' or "..." literal with backslash escapes; n is its length.
func lexString(s string) (string, int, string) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case q:
			return b.String(), i + 1, ""
		case '\\':
			if i+1 >= len(s) {
				return "", 0, "unterminated string literal"
			}
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\\', '\'', '"':
				b.WriteByte(e)
			default:
				return "", 0, fmt.Sprintf("unknown escape \\%c in string literal", e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, "unterminated string literal"
}
