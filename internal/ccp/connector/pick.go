package connector

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
)

// Pick selects one poller of a file by name (case-insensitive) or zero-based index; a file
// with a single poller needs no name.
func Pick(pollers []connectorfile.Poller, want, file string) (connectorfile.Poller, error) {
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
