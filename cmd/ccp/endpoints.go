package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// metadataHosts are cloud instance-metadata services reached by name or by an address that
// is not link-local (169.254.0.0/16 and fe80::/10 are caught by address class).
var metadataHosts = map[string]bool{
	"metadata.google.internal": true, "metadata.goog": true, "metadata": true,
	"instance-data": true, "instance-data.ec2.internal": true, "fd00:ec2::254": true, "100.100.100.200": true,
}

// endpointWarnings names the addresses a poller calls that put its credentials at risk:
// plain http (readable and changeable on the network) and link-local or metadata addresses
// (where a request can read the collector host's own cloud credentials). It looks at every
// apiEndpoint, token and login URL and DCR endpoint, nested steps included.
func endpointWarnings(poller string, props map[string]any) []string {
	var w []string
	walkEndpoints(props, "", 0, func(path, raw string) {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || u.Host == "" {
			return
		}
		shown := redactQuery(strings.TrimSpace(raw))
		if strings.EqualFold(u.Scheme, "http") {
			w = append(w, fmt.Sprintf("poller %s: %s %q uses plain http: its credentials and events can be read and changed on the network; use https", poller, path, shown))
		}
		if metadataAddress(u.Hostname()) {
			w = append(w, fmt.Sprintf("poller %s: %s %q is a link-local or cloud metadata address: a request there can read the collector host's own cloud credentials, and the connector's credentials are sent to it; point it at the vendor's API", poller, path, shown))
		}
	})
	return w
}

func metadataAddress(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if i := strings.IndexByte(h, '%'); i >= 0 {
		h = h[:i] // IPv6 zone
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLinkLocalUnicast() || metadataHosts[ip.String()]
	}
	return metadataHosts[h]
}

// walkEndpoints calls fn for every string under a key that holds an address this project
// calls, with its JSON path.
func walkEndpoints(v any, path string, depth int, fn func(path, raw string)) {
	if depth > 64 {
		return
	}
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			walkEndpoints(e, fmt.Sprintf("%s[%d]", path, i), depth+1, fn)
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if s, ok := x[k].(string); ok {
				if calledAddress(normKey(k)) {
					fn(p, s)
				}
				continue
			}
			walkEndpoints(x[k], p, depth+1, fn)
		}
	}
}

// calledAddress: apiEndpoint, TokenEndpoint, SessionLoginRequestUri/Url, dataCollectionEndpoint
// (not AuthorizationEndpoint or RedirectUri, which are never called here).
func calledAddress(n string) bool {
	switch n {
	case "apiendpoint", "tokenendpoint", "sessionloginrequesturi", "sessionloginrequesturl", "datacollectionendpoint":
		return true
	}
	return false
}
