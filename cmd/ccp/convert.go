package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
)

// cmdConvert prints a collector configuration for every poller of the file.
func cmdConvert(o *options, stdout, stderr io.Writer) int {
	res, err := checkFile(o.file, o.params)
	if err != nil {
		fmt.Fprintf(stderr, "ccp convert: %v\n", err)
		return exitFail
	}
	if _, err := stdout.Write(buildConfig(o, res)); err != nil {
		fmt.Fprintf(stderr, "ccp convert: %v\n", err)
		return exitFail
	}
	return exitOK
}

// input is one value a poller needs from the user.
type input struct {
	name     string // parameter name as the file spells it
	label    string // UI label, "" when the file has no UI
	hint     string // UI placeholder text
	secret   bool
	value    string // given value
	given    bool
	credConf string // receiver credentials key for legacy connect-time credentials
	shape    paramShape
}

// yq quotes s as a YAML double-quoted scalar (JSON escapes are valid YAML escapes).
func yq(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// envName turns a parameter name into an environment variable name: clientSecret -> CLIENT_SECRET.
func envName(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case unicode.IsUpper(r):
			if i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(unicode.ToUpper(r))
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), "_")
	for strings.Contains(s, "__") {
		s = strings.ReplaceAll(s, "__", "_")
	}
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "P_" + s
	}
	return s
}

// idName makes a component ID name: letters, digits, '_', '-', '.'.
func idName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '.') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

// inputsOf lists every input a poller needs (with or without a value given) in file order.
// An input is secret when its name or UI says so, or when its value reaches a credential
// field (credentialInputs): a user name or tenant key named "org" is written as ${env:...} too.
func inputsOf(p connectorfile.Poller, params map[string]string) []input {
	resolved, all, _ := connectorfile.FillDummies(p, nil)
	cred := credentialInputs(p, resolved, all)
	ui := map[string]connectorfile.UIParam{}
	for _, u := range p.UIParams {
		ui[strings.ToLower(u.Name)] = u
	}
	var out []input
	seen := map[string]bool{}
	add := func(in input) {
		k := strings.ToLower(in.name)
		if seen[k] {
			return
		}
		seen[k] = true
		if u, ok := ui[k]; ok {
			if in.label == "" {
				in.label = u.Label
			}
			in.hint = u.Placeholder
			in.secret = in.secret || u.Password
		}
		in.value, in.given = lookupParam(params, in.name)
		out = append(out, in)
	}
	reads := connectorfile.ObjectMembers(p)
	for _, m := range all {
		add(input{name: m.Name, label: m.Label, secret: secretish(m.Name) || cred[strings.ToLower(m.Name)], shape: shapeOf(m, reads)})
	}
	if p.Legacy {
		for _, u := range legacyCredentialInputs(p) {
			add(input{name: u.Name, label: u.Label, secret: u.Password || secretish(u.Name), credConf: credentialConfKey(u.Name)})
		}
	}
	return out
}
