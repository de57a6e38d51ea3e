package nexus_test

import (
	"fmt"

	"github.com/nexus-broker/nexus/clients/go/nexus"
)

// An http.Client that carries a workspace's GitHub credential: any library that takes an
// *http.Client is authenticated by it.
func ExampleNewAuthenticatedHTTPClient() {
	credentials := nexus.NewCredentials("http://127.0.0.1:8090", "agent-key")
	github := nexus.NewAuthenticatedHTTPClient(credentials, nexus.Target{WorkspaceID: "acme", Provider: "github"})
	response, err := github.Get("https://api.github.com/user/repos")
	if err != nil {
		fmt.Println(err) // a *nexus.Error with Nexus's code, never a secret
		return
	}
	defer response.Body.Close()
}
