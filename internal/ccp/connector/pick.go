package connector

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
)

// Pick selects one poller of a file by name (case-insensitive; the raw name or the one the
// parameters resolve it to) or zero-based index; a file with a single poller needs no name.
// key is how the user makes the choice ("connector" in a config, "--connector" on the command
// line), for the messages.
func Pick(pollers []connectorfile.Poller, want string, params map[string]string, file, key string) (connectorfile.Poller, error) {
	names := func() string { return listNames(pollers, params) }
	if len(pollers) == 0 {
		return connectorfile.Poller{}, fmt.Errorf("definition: %s holds no poller (no object with kind and properties)", file)
	}
	if want == "" {
		if len(pollers) == 1 {
			return pollers[0], nil
		}
		return connectorfile.Poller{}, fmt.Errorf("%s: %s holds %d pollers (%s); set %s to a name or index", key, file, len(pollers), names(), key)
	}
	if i, err := strconv.Atoi(want); err == nil {
		if i < 0 || i >= len(pollers) {
			return connectorfile.Poller{}, fmt.Errorf("%s: index %d is out of range; %s holds %d pollers (%s)", key, i, file, len(pollers), names())
		}
		return pollers[i], nil
	}
	for _, p := range pollers {
		if strings.EqualFold(p.Name, want) || strings.EqualFold(resolvedName(p, params), want) {
			return p, nil
		}
	}
	return connectorfile.Poller{}, fmt.Errorf("%s: no poller named %q in %s; it holds %s", key, want, file, names())
}

// listNames lists "index:name", with names as the parameters (or dummies) resolve them.
func listNames(pollers []connectorfile.Poller, params map[string]string) string {
	s := make([]string, len(pollers))
	for i, p := range pollers {
		s[i] = fmt.Sprintf("%d:%s", i, resolvedName(p, params))
	}
	return strings.Join(s, ", ")
}

// resolvedName is the poller's name with placeholders filled (dummies where params lack them).
func resolvedName(p connectorfile.Poller, params map[string]string) string {
	if r, _, err := connectorfile.FillDummies(p, params); err == nil && r.Name != "" {
		return r.Name
	}
	return p.Name
}
