// What the SDK throws when the Gateway is not a Gateway: a proxy's HTML error page, or nothing
// listening. Always `NexusError` with a stable code; never the key.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Credentials, DEFAULT_TIMEOUT_MS, InsufficientScopeError, NexusError } from "../src/index.js";

const agentKey = "nxa_testtest_notarealkeynotarealkeynotarealkey";

test("an HTML error page is a typed error", async () => {
  const proxy = createServer((_, response) => {
    response.writeHead(502, { "content-type": "text/html" });
    response.end("<html><body>502 Bad Gateway</body></html>");
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const gatewayUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  await assert.rejects(
    new Credentials({ gatewayUrl, agentKey }).get({ workspaceId: "ws", provider: "p" }),
    (error: unknown) => error instanceof NexusError && error.code === "unexpected_response" && error.status === 502 && !error.message.includes(agentKey),
  );
  proxy.close();
});

test("an unreachable Gateway is a typed error", async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  await assert.rejects(
    new Credentials({ gatewayUrl: `http://127.0.0.1:${port}`, agentKey }).get({ workspaceId: "ws", provider: "p" }),
    (error: unknown) => error instanceof NexusError && error.code === "gateway_unreachable" && !error.message.includes(agentKey),
  );
});

test("a Gateway that never answers is a bounded wait", async () => {
  // Accepts the request and never answers: the default timeout is bounded (and longer than the
  // Broker's 20 s read budget); a caller may shorten it.
  assert.ok(DEFAULT_TIMEOUT_MS > 20_000 && DEFAULT_TIMEOUT_MS < 120_000);
  const silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const gatewayUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const started = Date.now();
  await assert.rejects(
    new Credentials({ gatewayUrl, agentKey, timeoutMs: 300 }).get({ workspaceId: "ws", provider: "p" }),
    (error: unknown) => error instanceof NexusError && error.code === "gateway_unreachable",
  );
  assert.ok(Date.now() - started < 5_000, "gave up at the caller's timeout");
  silent.closeAllConnections();
  silent.close();
});

test("insufficient_scope is typed and starts an incremental consent of the same connection", async () => {
  const connectionId = "0190a5b2-7c4e-7000-8000-000000000000";
  const requested: unknown[] = [];
  const gateway = createServer((request, response) => {
    if (request.method === "GET") {
      assert.ok(request.url?.includes("scopes=repo%2Cread%3Aorg"), request.url);
      response.writeHead(409, { "content-type": "application/json" });
      response.end(JSON.stringify({ code: "insufficient_scope", message: "lacks read:org", request_id: "r-1", connection_id: connectionId, missing_scopes: ["read:org"] }));
      return;
    }
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      requested.push(JSON.parse(body));
      response.writeHead(201, { "content-type": "application/json" });
      response.end(JSON.stringify({ auth_url: "https://idp.example/authorize?x=1", connection_id: connectionId, expires_at: "2026-11-30T00:00:00Z" }));
    });
  });
  await new Promise<void>((resolve) => gateway.listen(0, "127.0.0.1", resolve));
  const credentials = new Credentials({ gatewayUrl: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`, agentKey });
  let caught: unknown;
  try {
    await credentials.get({ workspaceId: "ws", provider: "github", scopes: ["repo", "read:org"] });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof InsufficientScopeError, String(caught));
  assert.ok(caught instanceof NexusError && caught.code === "insufficient_scope" && caught.status === 409);
  assert.deepEqual(caught.missingScopes, ["read:org"]);
  assert.equal(caught.connectionId, connectionId);
  const started = await credentials.requestScopes(caught, { workspaceId: "ws", provider: "github", returnUrl: "http://localhost:3000/done" });
  assert.equal(started.connection_id, connectionId);
  assert.deepEqual(requested, [{ workspace_id: "ws", provider: "github", connection_id: connectionId, scopes: ["read:org"], return_url: "http://localhost:3000/done" }]);
  gateway.close();
});
