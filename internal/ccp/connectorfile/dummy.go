package connectorfile

import (
	"encoding/json"
	"strings"
)

// hostSafe makes a name usable as a DNS label.
func hostSafe(name string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		s = "x"
	}
	return s
}

func urlish(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "url") || strings.Contains(n, "uri") || strings.Contains(n, "endpoint")
}

func hostish(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"domain", "host", "fqdn", "server", "instance"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

func numeric(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"window", "interval", "minutes", "seconds", "timeout", "pagesize", "limit", "count"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// dummyValue is a plausible value for an input named name. withScheme says
// whether a URL-like input should carry "https://".
func dummyValue(name string, withScheme bool) string {
	n := strings.ToLower(name)
	switch {
	case n == "datacollectionendpoint":
		return "https://dummy-dce.westeurope-1.ingest.monitor.azure.com"
	case n == "datacollectionruleimmutableid":
		return "dcr-00000000000000000000000000000000"
	case strings.Contains(n, "granttype") || strings.Contains(n, "flowname"):
		return "client_credentials" // a value the auth layer accepts (Salesforce picks it by parameter)
	case numeric(name):
		return "5"
	case urlish(name) && withScheme:
		return "https://dummy-" + hostSafe(name) + ".example.com"
	case urlish(name) || hostish(name):
		return "dummy-" + hostSafe(name) + ".example.com"
	}
	return "dummy-" + hostSafe(name)
}

// dummyPlaceholder picks a dummy for {{name}} given the text before it.
func dummyPlaceholder(name, before string) string {
	return dummyValue(name, before == "")
}

// dummyParam picks a dummy for parameters('name') from its declaration (first
// allowed value, default by type) or its name.
func dummyParam(name string, decl map[string]any, expr string) any {
	if decl != nil {
		if av, ok := get(decl, "allowedValues"); ok {
			if arr, ok := av.([]any); ok && len(arr) > 0 {
				return arr[0]
			}
		}
		switch strings.ToLower(getStr(decl, "type")) {
		case "int":
			return json.Number("5")
		case "bool":
			return false
		case "array":
			return []any{dummyValue(name, true)}
		case "object", "secureobject":
			if strings.EqualFold(name, "dcrConfig") {
				return dummyDCR()
			}
			return map[string]any{}
		}
	}
	if strings.EqualFold(name, "dcrConfig") {
		return dummyDCR()
	}
	// "https://" written in the expression itself means the value is a host
	withScheme := !strings.Contains(expr, "://")
	return dummyValue(name, withScheme)
}

func dummyDCR() map[string]any {
	return map[string]any{
		"dataCollectionEndpoint":        dummyValue("dataCollectionEndpoint", true),
		"dataCollectionRuleImmutableId": dummyValue("dataCollectionRuleImmutableId", true),
		"streamName":                    "Custom-Dummy_CL",
	}
}
