package nexus

import (
	"context"
	"net/http"
	"testing"
)

// BenchmarkCachedInject is the Transport's own work per request with a cached credential: the
// cache read and the injection, no network (`go test -bench . ./nexus`).
func BenchmarkCachedInject(b *testing.B) {
	g := &fakeGateway{envelope: envelopeJSON(strategyJSON(`{"type":"api_key"}`), map[string]string{"api_key": "k"}, []string{"https://api.example.com", "https://*.googleapis.com"}, nil)}
	server := newServerForBench(g)
	defer server.Close()
	credentials := NewCredentials(server.URL, "key")
	req, _ := http.NewRequest("GET", "https://api.example.com/v1/items?page=2", nil)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		envelope, err := credentials.Get(ctx, target)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Inject(envelope, req, InjectOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
