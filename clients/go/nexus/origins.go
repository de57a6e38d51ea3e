package nexus

// Where a credential may be sent: a URL's origin against the envelope's api_origins, by the
// rules of clients/testdata/origins.json.

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

var defaultPorts = map[string]int{"http": 80, "https": 443}

// origin is a scheme, a lowercase ASCII host (an IDN in punycode, an IPv6 address without
// brackets) and a port.
type origin struct {
	scheme string
	host   string
	port   int
}

func (o origin) String() string {
	host := o.host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if defaultPorts[o.scheme] == o.port {
		return o.scheme + "://" + host
	}
	return o.scheme + "://" + host + ":" + strconv.Itoa(o.port)
}

// originOf is u's origin, or false when u can match none: not http(s), no host, userinfo
// (https://api.example.com@attacker.example is a request to attacker.example), or a host with a
// trailing dot (another name than the one without it).
func originOf(u *url.URL) (origin, bool) {
	if u == nil || u.User != nil || u.Opaque != "" {
		return origin{}, false
	}
	scheme := strings.ToLower(u.Scheme)
	port, known := defaultPorts[scheme]
	if !known {
		return origin{}, false
	}
	host, ok := asciiHost(u.Hostname())
	if !ok || host == "" || strings.HasSuffix(host, ".") {
		return origin{}, false
	}
	if written := u.Port(); written != "" {
		number, err := strconv.Atoi(written)
		if err != nil || number < 1 || number > 65535 {
			return origin{}, false
		}
		port = number
	}
	return origin{scheme: scheme, host: host, port: port}, true
}

// asciiHost is host in lowercase ASCII, each non-ASCII label in its punycode form (the form
// envelopes name origins in, and the one net/http connects to).
func asciiHost(host string) (string, bool) {
	labels := strings.Split(strings.ToLower(host), ".")
	for i, label := range labels {
		if isASCII(label) {
			continue
		}
		encoded, ok := punycode(label)
		if !ok {
			return "", false
		}
		labels[i] = "xn--" + encoded
	}
	return strings.Join(labels, "."), true
}

func isASCII(text string) bool {
	for i := 0; i < len(text); i++ {
		if text[i] >= 0x80 {
			return false
		}
	}
	return true
}

const wildcard = "*."

// patternOrigin is the origin a pattern (its "*." taken off) names; none when it has a path, a
// query or a fragment: a caller narrowing to https://api.example.com/v1 would get the whole origin.
func patternOrigin(pattern string) (origin, bool) {
	parsed, err := url.Parse(pattern)
	if err != nil || (parsed.Path != "" && parsed.Path != "/") || parsed.RawQuery != "" || parsed.ForceQuery || parsed.Fragment != "" {
		return origin{}, false
	}
	return originOf(parsed)
}

// pattern is an api_origins entry as parsed once: its origin, whether it is a "*." wildcard,
// and whether it can match anything at all.
type pattern struct {
	named    origin
	wildcard bool
	usable   bool
}

// patterns caches parsed entries: an agent sends many requests under few envelopes.
var patterns sync.Map

func parsePattern(text string) pattern {
	if cached, ok := patterns.Load(text); ok {
		return cached.(pattern)
	}
	isWildcard := strings.Contains(text, "://"+wildcard)
	stripped := text
	if isWildcard {
		stripped = strings.Replace(text, "://"+wildcard, "://", 1)
	}
	named, ok := patternOrigin(stripped)
	parsed := pattern{named: named, wildcard: isWildcard, usable: ok && !strings.Contains(named.host, "*")}
	patterns.Store(text, parsed)
	return parsed
}

func matches(text string, target origin) bool {
	p := parsePattern(text)
	if !p.usable || p.named.scheme != target.scheme || p.named.port != target.port {
		return false
	}
	if !p.wildcard {
		return p.named.host == target.host
	}
	// "*." stands for exactly one label in front of a domain of two labels or more, never an address.
	label, rest, found := strings.Cut(target.host, ".")
	return found && label != "" && rest == p.named.host && strings.Contains(p.named.host, ".") && net.ParseIP(target.host) == nil
}

// OriginAllowed reports whether a credential whose envelope names apiOrigins may be sent to u:
// u's origin must match one of them and, when the caller narrowed them (narrowedTo not nil,
// possibly empty), one of those too, so a narrowing never widens.
func OriginAllowed(u *url.URL, apiOrigins []string, narrowedTo []string) bool {
	target, ok := originOf(u)
	if !ok || !matchesAny(apiOrigins, target) {
		return false
	}
	return narrowedTo == nil || matchesAny(narrowedTo, target)
}

func matchesAny(patterns []string, target origin) bool {
	for _, pattern := range patterns {
		if matches(pattern, target) {
			return true
		}
	}
	return false
}

// sameOrigin reports whether two URLs have one origin (a URL that has none shares none).
func sameOrigin(a, b *url.URL) bool {
	first, ok := originOf(a)
	second, also := originOf(b)
	return ok && also && first == second
}
