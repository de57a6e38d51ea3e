// A stdio MCP server with one tool, `get_profile`, that calls an API on behalf of a workspace
// through Nexus: `createFetcher` resolves the workspace's credential from the Gateway on each
// invocation (cached until it nears expiry) and applies it the way the provider wants. stdout
// carries JSON-RPC only; diagnostics go to stderr, and never a key or a token.
//
//   NEXUS_GATEWAY_URL   the Gateway (default http://127.0.0.1:8090)
//   NEXUS_AGENT_KEY     the agent key (required)
//   EXAMPLE_API_URL     the API endpoint the tool calls (required)
//   EXAMPLE_PROVIDER    the provider name in Nexus (default `keyed`)

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { Credentials, NexusError, createFetcher } from "@nexus/client";
import { z } from "zod";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

const gatewayUrl = process.env["NEXUS_GATEWAY_URL"] ?? "http://127.0.0.1:8090";
const credentials = new Credentials({ gatewayUrl, agentKey: required("NEXUS_AGENT_KEY") });
const apiUrl = required("EXAMPLE_API_URL");
const provider = process.env["EXAMPLE_PROVIDER"] ?? "keyed";

const server = new McpServer({ name: "nexus-example", version: "0.1.0" });

server.registerTool(
  "get_profile",
  {
    description: "Reads the user's profile from the example API, with the workspace's credential from Nexus",
    inputSchema: { workspace_id: z.string().min(1).max(128) },
  },
  async ({ workspace_id }) => {
    const fetcher = createFetcher(credentials, { workspaceId: workspace_id, provider });
    try {
      const response = await fetcher(apiUrl);
      return { content: [{ type: "text", text: `HTTP ${response.status}: ${await response.text()}` }] };
    } catch (error) {
      if (!(error instanceof NexusError)) throw error;
      // What the agent needs to act: the code, and the connection to send the user back to.
      const reconnect = error.connectionId === undefined ? "" : ` (connection ${error.connectionId})`;
      return { isError: true, content: [{ type: "text", text: `${error.code}: ${error.message}${reconnect}` }] };
    }
  },
);

await server.connect(new StdioServerTransport());
console.error("nexus example MCP server is ready on stdio");
