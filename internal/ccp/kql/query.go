package kql

import (
	"fmt"
)

// Bounds of the evaluator; a stepPlaceholdersParsingKql is configuration, but parent records
// are vendor data, so every loop and every recursion has a ceiling.
const (
	maxText  = 8 << 10 // characters of one query
	maxDepth = 64      // expression nesting
	maxOps   = 32      // pipe stages
	// MaxRows bounds the rows one query may produce for one parent record.
	MaxRows = 100000
)

// Query is a compiled stepPlaceholdersParsingKql: a pipeline over the one-row table `source`
// whose only column `data` holds one parent record as raw JSON text.
type Query struct {
	text string
	ops  []kqlOp
}

// Row is one placeholder row: name -> value, used as $name$.
type Row map[string]string

// String returns the query text.
func (q *Query) String() string { return q.text }

// Error is a syntax or evaluation error; Pos is a 1-based byte position in the text (0 when
// the error is not tied to a position).
type Error struct {
	Text string
	Pos  int
	Msg  string
}

func (e *Error) Error() string {
	if e.Pos > 0 {
		return fmt.Sprintf("stepPlaceholdersParsingKql %q: at position %d: %s", e.Text, e.Pos, e.Msg)
	}
	return fmt.Sprintf("stepPlaceholdersParsingKql %q: %s", e.Text, e.Msg)
}

// errAt is an Error at the 0-based byte offset pos of text.
func errAt(text string, pos int, f string, a ...any) error {
	return &Error{Text: text, Pos: pos + 1, Msg: fmt.Sprintf(f, a...)}
}

// operatorStart are the first words of the operators a query may begin with when it leaves
// out the table name.
var operatorStart = map[string]bool{"project": true, "extend": true, "where": true, "mv": true,
	"mvexpand": true, "take": true, "limit": true}

// Compile parses a stepPlaceholdersParsingKql query of the supported subset (see doc.go).
func Compile(text string) (*Query, error) {
	if len(text) > maxText {
		return nil, &Error{Text: text[:64] + "...", Msg: fmt.Sprintf("query longer than %d characters", maxText)}
	}
	toks, err := lex(text)
	if err != nil {
		return nil, err
	}
	p := &parser{text: text, toks: toks}
	q := &Query{text: text}
	// "source | project ..." is the documented form; Lookout's file starts with the operator
	// ("project token = parse_json(source) | ..."), which is read as if "source |" preceded it.
	t := p.peek()
	implicit := false
	switch {
	case t.kind == tIdent && t.text == "source":
		p.next()
	case t.kind == tIdent && operatorStart[t.text]:
		implicit = true
	default:
		return nil, p.errAt(t.pos, "the query must start with the table name source, found %s", describeTok(t))
	}
	for p.peek().kind != tEOF {
		if !implicit {
			if err := p.expect("|"); err != nil {
				return nil, err
			}
		}
		implicit = false
		if len(q.ops) >= maxOps {
			return nil, p.errAt(p.peek().pos, "more than %d pipe stages", maxOps)
		}
		op, err := p.operator()
		if err != nil {
			return nil, err
		}
		q.ops = append(q.ops, op)
	}
	return q, nil
}
