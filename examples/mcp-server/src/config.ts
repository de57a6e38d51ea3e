// The server's configuration, from its environment only: which workspace it acts for is decided
// by whoever starts it, never by a tool call (a model, or text it read, cannot steer it).
//
//   NEXUS_GATEWAY_URL   the Gateway (default http://127.0.0.1:8090)
//   NEXUS_AGENT_KEY     a proxy_only agent key restricted to NEXUS_WORKSPACE_ID (required)
//   NEXUS_WORKSPACE_ID  the one workspace this server acts for (required)
//   NEXUS_RETURN_URL    where the user's browser lands after connecting (required; the Broker
//                       must allow it: loopback in development, NEXUS_ALLOWED_RETURN_URLS otherwise)
//   EXAMPLE_API_URL     the API endpoint the tool calls (required; within the provider's api_origins)
//   EXAMPLE_PROVIDER    the provider name in Nexus (default `keyed`)

export interface Config {
  gatewayUrl: string;
  agentKey: string;
  workspaceId: string;
  returnUrl: string;
  apiUrl: string;
  provider: string;
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    // stderr: stdout carries JSON-RPC only.
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

export function configFromEnvironment(): Config {
  return {
    gatewayUrl: process.env["NEXUS_GATEWAY_URL"] ?? "http://127.0.0.1:8090",
    agentKey: required("NEXUS_AGENT_KEY"),
    workspaceId: required("NEXUS_WORKSPACE_ID"),
    returnUrl: required("NEXUS_RETURN_URL"),
    apiUrl: required("EXAMPLE_API_URL"),
    provider: process.env["EXAMPLE_PROVIDER"] ?? "keyed",
  };
}
