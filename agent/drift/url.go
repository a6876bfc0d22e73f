package drift

import (
	"fmt"
	"net"
	"net/url"
)

// CheckURL validates a webhook URL. It returns a warning (not an error)
// for plain http to anything but loopback: drift events name weaknesses of
// the estate, and a network path that can read them should not.
func CheckURL(raw string) (warning string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("webhook_url: %w", err)
	}
	if u.User != nil {
		return "", fmt.Errorf("webhook_url: credentials in the URL are refused; use webhook_secret_file for signing")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			warning = "webhook_url uses plain http to a host beyond loopback: drift events cross the network unencrypted"
		}
	default:
		return "", fmt.Errorf("webhook_url %q: use https:// (or http://)", redactURL(raw))
	}
	if u.Host == "" {
		return "", fmt.Errorf("webhook_url %q has no host", redactURL(raw))
	}
	return warning, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactURL drops userinfo and query (where tokens tend to ride).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	// Paths and queries of webhook URLs often hold their token.
	u.User, u.RawQuery, u.Path, u.RawPath = nil, "", "", ""
	return u.String()
}
