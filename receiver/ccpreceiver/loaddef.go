package ccpreceiver

import (
	"errors"
	"fmt"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connector"
)

func (c *Config) params() map[string]string {
	out := make(map[string]string, len(c.Parameters))
	for k, v := range c.Parameters {
		out[k] = string(v)
	}
	return out
}

func (c *Config) source() connector.Source {
	if c.Definition != "" {
		return connector.Source{File: c.Definition, Connector: c.Connector}
	}
	props, _ := plainValues(c.PollingConfig, 0).(map[string]any)
	return connector.Source{Inline: props}
}

// loadDefinition picks the poller, resolves placeholders and ARM expressions with the
// configured parameters, and parses it. It runs at config validation and again at start.
func (c *Config) loadDefinition() (*connector.Loaded, error) {
	l, err := connector.Load(c.source(), c.params())
	var missing *connector.MissingError
	var cond *connector.ConditionError
	switch {
	case asErr(err, &missing):
		return nil, fmt.Errorf("%w; supply them under parameters", err)
	case asErr(err, &cond):
		return nil, fmt.Errorf("%w; pick another connector or change the parameters", err)
	case err != nil:
		return nil, err
	}
	return l, nil
}

func asErr[T error](err error, target *T) bool { return err != nil && errors.As(err, target) }
