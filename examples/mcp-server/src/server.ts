// A stdio MCP server with one tool, `get_profile`, that calls an API for one workspace through
// Nexus's proxy: the workspace is configuration (`config.ts`), never a tool argument, and the
// agent key is `proxy_only`, so the credential never enters this process (`createFetcher(...,
// { proxy: true })`). When only the user can help, the tool call answers a URL elicitation with
// a consent link (`consent.ts`). stdout carries JSON-RPC only; diagnostics go to stderr, and
// never a key or a token.

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { Credentials, NexusError, createFetcher } from "nexus-broker-client";
import { z } from "zod";
import { configFromEnvironment } from "./config.js";
import { consentElicitation, needsTheUser } from "./consent.js";

const config = configFromEnvironment();
const credentials = new Credentials({ gatewayUrl: config.gatewayUrl, agentKey: config.agentKey });
// One fetcher for the server's life: its workspace is fixed before any tool is called.
const fetcher = createFetcher(credentials, { workspaceId: config.workspaceId, provider: config.provider }, { proxy: true });

const server = new McpServer({ name: "nexus-example", version: "0.1.0" });

/** Whether the client said it can send its user to a URL (elicitation `url` mode, 2025-11-25). */
function clientShowsUrls(): boolean {
  return server.server.getClientCapabilities()?.elicitation?.url !== undefined;
}

server.registerTool(
  "get_profile",
  {
    description: `Reads the user's profile from the example API (${config.provider}), through Nexus`,
    // No arguments: an argument naming a workspace (or anything else) is stripped before the
    // handler runs, and the handler reads none anyway.
    inputSchema: z.object({}).strip(),
  },
  async () => {
    try {
      const response = await fetcher(config.apiUrl);
      return { content: [{ type: "text", text: `HTTP ${response.status}: ${await response.text()}` }] };
    } catch (error) {
      if (!(error instanceof NexusError)) throw error;
      if (needsTheUser(error) && clientShowsUrls()) throw await consentElicitation(credentials, error, config);
      // A client that cannot show a URL to its user gets no link: the model would see it, and a
      // link passed on lets anyone connect their own account to this workspace.
      const next = needsTheUser(error) ? ` (the user must connect ${config.provider} in Nexus; this MCP client cannot show them a link)` : "";
      return { isError: true, content: [{ type: "text", text: `${error.code}: ${error.message}${next}` }] };
    }
  },
);

await server.connect(new StdioServerTransport());
console.error(`nexus example MCP server is ready on stdio (workspace ${config.workspaceId})`);
