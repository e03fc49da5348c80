package ccpreceiver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/nested"
)

// loadedDefinition is a resolved, parsed poller plus what the receiver needs around it.
type loadedDefinition struct {
	def         *definition.Definition
	props       map[string]any // resolved poller object; nested steps are read from it
	name        string
	source      string // file name or "polling_config", for messages
	fingerprint string // identifies the resolved definition in checkpoints
}

func (c *Config) params() map[string]string {
	out := make(map[string]string, len(c.Parameters))
	for k, v := range c.Parameters {
		out[k] = string(v)
	}
	return out
}

// loadDefinition picks the poller, resolves placeholders and ARM expressions with the
// configured parameters, and parses it. It runs at config validation and again at start.
func (c *Config) loadDefinition() (*loadedDefinition, error) {
	var p connectorfile.Poller
	source := "polling_config"
	if c.Definition != "" {
		source = c.Definition
		pollers, err := connectorfile.Load(c.Definition)
		if err != nil {
			return nil, fmt.Errorf("definition: %w", err)
		}
		if p, err = pick(pollers, c.Connector, c.Definition); err != nil {
			return nil, err
		}
	} else {
		props, _ := plainValues(c.PollingConfig, 0).(map[string]any)
		p = connectorfile.Poller{Properties: props, Source: source, Condition: true}
	}
	if p.Kind != "" && !strings.EqualFold(p.Kind, "RestApiPoller") && !strings.EqualFold(p.Kind, "APIPolling") {
		return nil, fmt.Errorf("%s: poller %q: unsupported: kind %q is not an HTTP poller (only RestApiPoller and APIPolling are supported)", source, p.Name, p.Kind)
	}
	params := c.params()
	resolved, missing, err := connectorfile.Resolve(p, params)
	if err != nil && onlyDCRConfig(missing) {
		// dcrConfig only labels records for routing; the exporter's own settings apply when
		// the user leaves its inputs out, so they resolve to empty instead of failing.
		for _, m := range missing {
			params[m.Name] = ""
		}
		resolved, missing, err = connectorfile.Resolve(p, params)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: parameters missing: %s; supply them under parameters", source, missingNames(missing))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if !resolved.Condition {
		return nil, fmt.Errorf("%s: the poller %q has a condition that is false with these parameters; pick another connector or change the parameters", source, resolved.Name)
	}
	def, err := nested.ParseDefinition(resolved.Properties, source)
	if err != nil {
		return nil, err
	}
	if err := def.Problems(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	raw, err := json.Marshal(resolved.Properties)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	sum := sha256.Sum256(raw)
	return &loadedDefinition{def: def, props: resolved.Properties, name: resolved.Name, source: source, fingerprint: hex.EncodeToString(sum[:8])}, nil
}

// missingNames lists missing inputs with their UI labels; a member the poller reads of an
// object parameter the user gave as a map is named "object.member".
func missingNames(missing []connectorfile.Missing) string {
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

// pick selects one poller of a file by name (case-insensitive) or zero-based index; a file
// with a single usable poller needs no connector key.
func pick(pollers []connectorfile.Poller, want, file string) (connectorfile.Poller, error) {
	if len(pollers) == 0 {
		return connectorfile.Poller{}, fmt.Errorf("definition: %s holds no poller (no object with kind and properties)", file)
	}
	if want == "" {
		if len(pollers) == 1 {
			return pollers[0], nil
		}
		return connectorfile.Poller{}, fmt.Errorf("connector: %s holds %d pollers (%s); set connector to a name or index", file, len(pollers), names(pollers))
	}
	if i, err := strconv.Atoi(want); err == nil {
		if i < 0 || i >= len(pollers) {
			return connectorfile.Poller{}, fmt.Errorf("connector: index %d is out of range; %s holds %d pollers (%s)", i, file, len(pollers), names(pollers))
		}
		return pollers[i], nil
	}
	for _, p := range pollers {
		if strings.EqualFold(p.Name, want) {
			return p, nil
		}
	}
	return connectorfile.Poller{}, fmt.Errorf("connector: no poller named %q in %s; it holds %s", want, file, names(pollers))
}

func names(pollers []connectorfile.Poller) string {
	s := make([]string, len(pollers))
	for i, p := range pollers {
		s[i] = fmt.Sprintf("%d:%s", i, p.Name)
	}
	return strings.Join(s, ", ")
}
