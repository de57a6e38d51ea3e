package nexus

// The shared vectors every SDK runs (clients/testdata): each strategy case, each origin case and
// each redirect chain, the last over two real servers on 127.0.0.1.

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readVectors(t *testing.T, name string, into interface{}) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatalf("reading the shared vectors: %v", err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

type strategyCase struct {
	Name        string            `json:"name"`
	Strategy    json.RawMessage   `json:"strategy"`
	Credentials map[string]string `json:"credentials"`
	APIOrigins  []string          `json:"api_origins"`
	APIHeaders  map[string]string `json:"api_headers"`
	APIQuery    map[string]string `json:"api_query"`
	Clock       string            `json:"clock"`
	Request     struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request"`
	Expected *struct {
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
	} `json:"expected"`
	Error string `json:"error"`
}

// envelopeJSON is an envelope as the Gateway answers it.
func envelopeJSON(strategy json.RawMessage, credentials map[string]string, origins []string, extras map[string]interface{}) []byte {
	envelope := map[string]interface{}{
		"connection_id": "11111111-2222-3333-4444-555555555555",
		"workspace_id":  "ws-vectors",
		"provider":      "vectors",
		"scopes":        []string{},
		"strategy":      strategy,
		"credentials":   credentials,
		"api_origins":   origins,
	}
	for name, value := range extras {
		envelope[name] = value
	}
	data, _ := json.Marshal(envelope)
	return data
}

func codeOf(err error) string {
	var nexusError *Error
	if errors.As(err, &nexusError) {
		return nexusError.Code
	}
	return ""
}

func TestStrategyVectors(t *testing.T) {
	var vectors struct {
		Cases []strategyCase `json:"cases"`
	}
	readVectors(t, "strategies.json", &vectors)
	if len(vectors.Cases) < 17 {
		t.Fatalf("only %d strategy cases", len(vectors.Cases))
	}
	for _, c := range vectors.Cases {
		c := c
		t.Run(c.Name, func(t *testing.T) {
			extras := map[string]interface{}{}
			if c.APIHeaders != nil {
				extras["api_headers"] = c.APIHeaders
			}
			if c.APIQuery != nil {
				extras["api_query"] = c.APIQuery
			}
			envelope, err := DecodeEnvelope(envelopeJSON(c.Strategy, c.Credentials, c.APIOrigins, extras))
			var clock time.Time
			if c.Clock != "" {
				clock, _ = time.Parse(time.RFC3339, c.Clock)
			}
			request, _ := http.NewRequest(c.Request.Method, c.Request.URL, nil)
			before := request.Header.Clone()
			var injected *http.Request
			if err == nil {
				injected, err = Inject(envelope, request, InjectOptions{Now: clock})
			}
			if c.Error != "" {
				if codeOf(err) != c.Error {
					t.Fatalf("want %s, got %v", c.Error, err)
				}
				for _, secret := range c.Credentials {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("the error shows a secret: %v", err)
					}
				}
				if len(request.Header) != len(before) || request.URL.String() != c.Request.URL {
					t.Fatal("a refused request was changed")
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if injected.Method != c.Expected.Method || injected.URL.String() != c.Expected.URL {
				t.Fatalf("got %s %s, want %s %s", injected.Method, injected.URL, c.Expected.Method, c.Expected.URL)
			}
			added := map[string]string{}
			for name := range injected.Header {
				if before.Get(name) == "" {
					added[strings.ToLower(name)] = injected.Header.Get(name)
				}
			}
			if len(added) != len(c.Expected.Headers) {
				t.Fatalf("added headers %v, want %v", added, c.Expected.Headers)
			}
			for name, value := range c.Expected.Headers {
				if added[name] != value {
					t.Fatalf("header %s: got %q, want %q", name, added[name], value)
				}
			}
			if request.Header.Get("Authorization") != "" || request.URL.String() != c.Request.URL {
				t.Fatal("Inject changed the caller's request")
			}
		})
	}
}

func TestOriginVectors(t *testing.T) {
	var vectors struct {
		Requests []struct {
			Name       string    `json:"name"`
			APIOrigins []string  `json:"api_origins"`
			NarrowedTo *[]string `json:"narrowed_to"`
			URL        string    `json:"url"`
			Allowed    bool      `json:"allowed"`
		} `json:"requests"`
	}
	readVectors(t, "origins.json", &vectors)
	if len(vectors.Requests) < 30 {
		t.Fatalf("only %d origin cases", len(vectors.Requests))
	}
	for _, c := range vectors.Requests {
		var narrowed []string
		if c.NarrowedTo != nil {
			narrowed = append([]string{}, *c.NarrowedTo...)
		}
		parsed, err := url.Parse(c.URL)
		allowed := err == nil && OriginAllowed(parsed, c.APIOrigins, narrowed)
		if allowed != c.Allowed {
			t.Errorf("%s: %s allowed=%v, want %v", c.Name, c.URL, allowed, c.Allowed)
		}
	}
}

func TestPunycodeMatchesRFC3492(t *testing.T) {
	// RFC 3492's section 7.1 samples (lowercased), and the vectors' IDN.
	for label, want := range map[string]string{
		"bücher":            "bcher-kva",
		"ليهمابتكلموشعربي؟": "egbpdaj6bu4bxfgehfvwxn",
		"他们为什么不说中文":         "ihqwcrb4cv8a8dqg056pqjye",
		"3年b組金八先生":          "3b-ww4c5e180e575a65lsy2b",
		"-> $1.00 <-":       "-> $1.00 <--",
	} {
		if got, ok := punycode(label); !ok || got != want {
			t.Errorf("punycode(%q) = %q, want %q", label, got, want)
		}
	}
}
