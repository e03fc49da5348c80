package origin

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestAllows(t *testing.T) {
	o, err := Parse("https://API.example.com/v1/logs")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{
		"https://api.example.com/next?x=1":      true,
		"https://api.example.com:443/next":      true,
		"https://api.example.com./next":         true,
		"http://api.example.com/next":           false, // https to http
		"https://api.example.com:8443/next":     false, // other port
		"https://api.example.com.evil.example/": false,
		"https://evil.example/":                 false,
		"https://api.example.com@evil.example/": false, // userinfo trick
	}
	for raw, want := range cases {
		if got := o.Allows(mustURL(t, raw)); got != want {
			t.Errorf("Allows(%s) = %v, want %v", raw, got, want)
		}
	}
	if (Origin{}).Allows(mustURL(t, "https://api.example.com/")) {
		t.Error("the zero origin must allow nothing")
	}
	if got := o.String(); got != "https://api.example.com:443" {
		t.Errorf("String() = %q", got)
	}
}

func TestParseRefusesNoHost(t *testing.T) {
	if _, err := Parse("/relative/path"); err == nil {
		t.Fatal("a URL without a host must be refused")
	}
}

func TestCheckRedirect(t *testing.T) {
	o, _ := Parse("https://login.example.com/oauth/token")
	check := CheckRedirect(o, 3)
	same, _ := http.NewRequest(http.MethodPost, "https://login.example.com/other", nil)
	if err := check(same, nil); err != nil {
		t.Fatalf("same-origin redirect refused: %v", err)
	}
	for _, raw := range []string{"https://evil.example/token", "http://login.example.com/token", "https://login.example.com:444/"} {
		req, _ := http.NewRequest(http.MethodPost, raw, nil)
		if err := check(req, nil); !errors.Is(err, ErrCrossOrigin) {
			t.Errorf("redirect to %s: got %v, want ErrCrossOrigin", raw, err)
		}
	}
	if err := check(same, make([]*http.Request, 3)); err == nil {
		t.Error("the redirect limit must hold")
	}
}
