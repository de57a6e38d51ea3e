// `Credentials.requestConnection`: the body it posts for a new connection and for a consent
// again of an existing one, and a refusal as a typed error (what an MCP server turns into a URL
// elicitation).

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Credentials, NexusError } from "../src/index.js";

const agentKey = "nxa_testtest_notarealkeynotarealkeynotarealkey";
const connectionId = "0190a5b2-7c4e-7000-8000-000000000000";

test("a new connection, a consent again, and a refusal", async () => {
  const posted: { path: string; authorization: string | undefined; body: unknown }[] = [];
  const gateway = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const parsed = JSON.parse(body) as Record<string, unknown>;
      posted.push({ path: request.url ?? "", authorization: request.headers["authorization"], body: parsed });
      if (parsed["workspace_id"] === "ws-unknown") {
        response.writeHead(404, { "content-type": "application/json" });
        response.end(JSON.stringify({ code: "connection_not_found", message: "no such workspace", request_id: "r-2" }));
        return;
      }
      response.writeHead(201, { "content-type": "application/json" });
      response.end(JSON.stringify({ auth_url: "http://nexus.example/auth/capture?state=s", connection_id: connectionId, expires_at: "2026-11-30T00:00:00Z" }));
    });
  });
  await new Promise<void>((resolve) => gateway.listen(0, "127.0.0.1", resolve));
  const credentials = new Credentials({ gatewayUrl: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/`, agentKey });
  const fresh = await credentials.requestConnection({ workspaceId: "ws", provider: "keyed", returnUrl: "http://localhost:3000/done" });
  assert.equal(fresh.auth_url, "http://nexus.example/auth/capture?state=s");
  await credentials.requestConnection({ workspaceId: "ws", provider: "github", returnUrl: "http://localhost:3000/done", connectionId, scopes: ["read:org"] });
  await assert.rejects(
    credentials.requestConnection({ workspaceId: "ws-unknown", provider: "keyed", returnUrl: "http://localhost:3000/done" }),
    (error: unknown) => error instanceof NexusError && error.code === "connection_not_found" && error.status === 404 && error.requestId === "r-2",
  );
  assert.deepEqual(posted.slice(0, 2), [
    { path: "/v1/request-connection", authorization: `Bearer ${agentKey}`, body: { workspace_id: "ws", provider: "keyed", return_url: "http://localhost:3000/done" } },
    {
      path: "/v1/request-connection",
      authorization: `Bearer ${agentKey}`,
      body: { workspace_id: "ws", provider: "github", connection_id: connectionId, scopes: ["read:org"], return_url: "http://localhost:3000/done" },
    },
  ]);
  gateway.close();
});
