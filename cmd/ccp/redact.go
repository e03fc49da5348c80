package main

import (
	"net/url"
	"strings"
)

// secretish reports whether a parameter or query name looks like it holds a secret.
func secretish(name string) bool {
	n := normKey(name)
	if n == "" {
		return false
	}
	for _, s := range []string{"password", "passwd", "secret", "token", "apikey", "accesskey", "privatekey",
		"passphrase", "credential", "signature", "sig", "auth", "key", "hash", "code", "session", "cookie", "jwt", "pem"} {
		if strings.Contains(n, s) {
			if urlish(name) && !strings.Contains(n, "secret") && !strings.Contains(n, "password") {
				return false // tokenEndpoint, authUrl: addresses, not secrets
			}
			return true
		}
	}
	return false
}

func urlish(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"url", "uri", "endpoint", "domain", "host"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// redactQuery drops the values of secret-looking query parameters from a URL text.
func redactQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery == "" {
		return raw
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		u.RawQuery = "REDACTED"
		return u.String()
	}
	changed := false
	for k := range q {
		if secretish(k) || strings.EqualFold(k, "sig") {
			for i := range q[k] {
				q[k][i] = "REDACTED"
			}
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	return u.String()
}
