// Package connector opens a CCP connector. Load picks a poller out of a Sentinel file (or takes
// an inline pollingConfig), resolves its placeholders and ARM expressions with the parameters,
// parses and checks it; Open builds its auth, polling engine and nested steps. It is the one
// place that assembles them: the receiver, every ccp sub-command and the tests go through it.
package connector

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/nested"
)

// InlineSource names an inline pollingConfig in messages.
const InlineSource = "polling_config"

// Source is where a definition comes from: a Sentinel file and the poller in it, or an inline
// pollingConfig object.
type Source struct {
	File      string         // a Sentinel connector file; empty for Inline
	Connector string         // the poller's name (case-insensitive) or zero-based index in File
	Inline    map[string]any // an inline pollingConfig object
}

// Loaded is a resolved, parsed and checked poller.
type Loaded struct {
	Def         *definition.Definition
	Props       map[string]any // the resolved poller object; nested steps are read from it
	Name        string         // the poller's resolved name
	Source      string         // the file name, or InlineSource
	Fingerprint string         // identifies the resolved definition in checkpoints
}

// MissingError lists the inputs a poller needs that the parameters do not give.
type MissingError struct {
	Source  string
	Missing []connectorfile.Missing
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s: parameters missing: %s", e.Source, MissingNames(e.Missing))
}

// ConditionError is a poller whose condition is false with the given parameters.
type ConditionError struct{ Source, Poller, Condition string }

func (e *ConditionError) Error() string {
	return fmt.Sprintf("%s: the poller %q has a condition that is false with these parameters", e.Source, e.Poller)
}

// Load picks the poller, resolves it with params and parses it. It runs at config validation
// and again when the connector starts.
func Load(src Source, params map[string]string) (*Loaded, error) {
	p, source, err := src.poller(params)
	if err != nil {
		return nil, err
	}
	if !HTTPKind(p.Kind) {
		return nil, fmt.Errorf("%s: poller %q: unsupported: kind %q is not an HTTP poller (only RestApiPoller and APIPolling are supported)", source, p.Name, p.Kind)
	}
	return Resolve(p, params, source)
}

// Resolve fills a picked poller's inputs with params, checks its condition and parses it.
func Resolve(p connectorfile.Poller, params map[string]string, source string) (*Loaded, error) {
	resolved, err := resolve(p, params, source)
	if err != nil {
		return nil, err
	}
	if !resolved.Condition {
		return nil, &ConditionError{Source: source, Poller: resolved.Name, Condition: p.ConditionExpr}
	}
	return Parse(resolved, source)
}

func (src Source) poller(params map[string]string) (connectorfile.Poller, string, error) {
	if src.File == "" {
		return connectorfile.Poller{Properties: src.Inline, Source: InlineSource, Condition: true}, InlineSource, nil
	}
	pollers, err := connectorfile.Load(src.File)
	if err != nil {
		return connectorfile.Poller{}, "", fmt.Errorf("definition: %w", err)
	}
	p, err := Pick(pollers, src.Connector, params, src.File, "connector")
	return p, src.File, err
}

// resolve fills the poller's inputs. dcrConfig only labels records for routing: when its
// inputs are all that is missing they resolve to empty and the exporter's settings apply.
func resolve(p connectorfile.Poller, params map[string]string, source string) (connectorfile.Poller, error) {
	params = copyParams(params)
	resolved, missing, err := connectorfile.Resolve(p, params)
	if err != nil && onlyDCRConfig(missing) {
		for _, m := range missing {
			params[m.Name] = ""
		}
		resolved, missing, err = connectorfile.Resolve(p, params)
	}
	if len(missing) > 0 {
		return resolved, &MissingError{Source: source, Missing: missing}
	}
	if err != nil {
		return resolved, fmt.Errorf("%s: %w", source, err)
	}
	return resolved, nil
}

// Parse parses a resolved poller, nested steps included, and checks it for what the engine
// refuses.
func Parse(resolved connectorfile.Poller, source string) (*Loaded, error) {
	def, err := nested.ParseDefinition(resolved.Properties, source)
	if err != nil {
		return &Loaded{Def: def, Name: resolved.Name, Source: source}, err
	}
	if err := def.Problems(); err != nil {
		return &Loaded{Def: def, Name: resolved.Name, Source: source}, fmt.Errorf("%s: %w", source, err)
	}
	raw, err := json.Marshal(resolved.Properties)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	sum := sha256.Sum256(raw)
	return &Loaded{Def: def, Props: resolved.Properties, Name: resolved.Name, Source: source,
		Fingerprint: hex.EncodeToString(sum[:8])}, nil
}

// HTTPKind reports whether a poller kind is one this engine runs.
func HTTPKind(kind string) bool {
	return kind == "" || strings.EqualFold(kind, "RestApiPoller") || strings.EqualFold(kind, "APIPolling")
}

func copyParams(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

func onlyDCRConfig(missing []connectorfile.Missing) bool {
	if len(missing) == 0 {
		return false
	}
	for _, m := range missing {
		if !strings.Contains(strings.ToLower(m.Path), "dcrconfig") {
			return false
		}
	}
	return true
}

// MissingNames lists missing inputs with their UI labels; a member the poller reads of an
// object parameter given as a map is named "object.member".
func MissingNames(missing []connectorfile.Missing) string {
	names := make([]string, 0, len(missing))
	for _, m := range missing {
		n := m.Name
		if m.Label != "" {
			n += " (" + m.Label + ")"
		}
		if obj, member, ok := strings.Cut(m.Name, "."); ok && m.Label == "" {
			n += fmt.Sprintf(" (key %s of the map %s)", member, obj)
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}
