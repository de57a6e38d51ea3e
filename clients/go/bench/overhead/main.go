// Command overhead measures the per-request overhead of nexus.NewAuthenticatedHTTPClient with a
// cached credential against a bare net/http request to the same URL (`cargo xtask bench sdk`
// runs it): alternating rounds, medians, as JSON.
//
// Usage: overhead GATEWAY_URL AGENT_KEY WORKSPACE PROVIDER TARGET_URL REQUESTS ROUNDS
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/nexus-broker/nexus/clients/go/nexus"
)

func fetch(client *http.Client, target string) {
	response, err := client.Get(target)
	if err != nil {
		fmt.Fprintln(os.Stderr, "request failed:", err)
		os.Exit(1)
	}
	_, _ = io.Copy(io.Discard, response.Body)
	response.Body.Close()
	if response.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "status", response.StatusCode)
		os.Exit(1)
	}
}

// perRequest is the mean time of one request in a round of n, in microseconds.
func perRequest(client *http.Client, target string, n int) float64 {
	started := time.Now()
	for i := 0; i < n; i++ {
		fetch(client, target)
	}
	return float64(time.Since(started).Microseconds()) / float64(n)
}

func median(values []float64) float64 {
	sort.Float64s(values)
	return values[len(values)/2]
}

func main() {
	if len(os.Args) != 8 {
		fmt.Fprintln(os.Stderr, "usage: overhead GATEWAY_URL AGENT_KEY WORKSPACE PROVIDER TARGET_URL REQUESTS ROUNDS")
		os.Exit(2)
	}
	gateway, key, workspace, provider, target := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5]
	requests, _ := strconv.Atoi(os.Args[6])
	rounds, _ := strconv.Atoi(os.Args[7])
	// Each client its own connection pool, as two programs would have.
	bare := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	sdk := &http.Client{Transport: &nexus.Transport{
		Credentials: nexus.NewCredentials(gateway, key),
		Target:      nexus.Target{WorkspaceID: workspace, Provider: provider},
		Base:        http.DefaultTransport.(*http.Transport).Clone(),
	}}
	for i := 0; i < 100; i++ {
		fetch(bare, target)
		fetch(sdk, target)
	}
	var bareTimes, sdkTimes []float64
	for round := 0; round < rounds; round++ {
		bareTimes = append(bareTimes, perRequest(bare, target, requests))
		sdkTimes = append(sdkTimes, perRequest(sdk, target, requests))
	}
	out, _ := json.Marshal(map[string]float64{"bare_us": median(bareTimes), "sdk_us": median(sdkTimes)})
	fmt.Println(string(out))
}
