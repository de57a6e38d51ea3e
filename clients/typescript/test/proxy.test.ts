// `createFetcher(..., { proxy: true })` against a local server playing the Gateway's proxy: the
// exact request it sends (`/v1/proxy`, `Nexus-Proxy-Url`, the connection's headers, the agent
// key, the caller's method, headers and body), a narrowing that refuses before anything is sent,
// and which answers are the provider's (`Nexus-Proxied: true`) and which Nexus's typed errors.

import { test, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Credentials, InsufficientScopeError, NexusError, createFetcher } from "../src/index.js";

const agentKey = "nxa_proxytest_notarealkeynotarealkeynotarealkey";
const api = "https://api.example.com";
const connectionId = "0190a5b2-7c4e-7000-8000-000000000000";

interface Arrival {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Answer = [status: number, headers: Record<string, string>, body: string];

function nexusError(code: string, status: number, fields: Record<string, unknown> = {}): Answer {
  return [status, { "content-type": "application/json" }, JSON.stringify({ code, message: `${code} here`, request_id: "req-1", ...fields })];
}

/** What the stand-in answers, by the path of the URL the agent asked for (`Nexus-Proxy-Url`). */
const answers: Record<string, Answer> = {
  "/v1/items": [201, { "nexus-proxied": "true", "x-provider": "yes" }, "created"],
  "/missing": [404, { "nexus-proxied": "true" }, '{"code":"from_the_api"}'],
  "/moved": [302, { "nexus-proxied": "true", location: `${api}/elsewhere` }, ""],
  "/no-connection": nexusError("connection_not_found", 404),
  "/revoked-grant": nexusError("attention_required", 409, { connection_id: connectionId }),
  "/scopes": nexusError("insufficient_scope", 409, { connection_id: connectionId, missing_scopes: ["read:org"] }),
  "/proxy-only": nexusError("proxy_only_key", 403),
  "/html": [502, { "content-type": "text/html" }, "<html>502 Bad Gateway</html>"],
};

const arrivals: Arrival[] = [];
const gateway = createServer((request, response) => {
  let body = "";
  request.on("data", (chunk: Buffer) => (body += chunk.toString()));
  request.on("end", () => {
    arrivals.push({ method: request.method ?? "", path: request.url ?? "", headers: request.headers, body });
    const asked = new URL(String(request.headers["nexus-proxy-url"] ?? "http://unset.invalid/"));
    const [status, headers, content] = answers[asked.pathname] ?? answers["/v1/items"]!;
    response.writeHead(status, headers);
    response.end(content);
  });
});
await new Promise<void>((resolve) => gateway.listen(0, "127.0.0.1", resolve));
const gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
after(() => gateway.close());
beforeEach(() => {
  arrivals.length = 0;
});

const byWorkspace = { workspaceId: "ws-1", provider: "github" };

function proxied(target: Parameters<typeof createFetcher>[1] = byWorkspace, origins?: string[]): typeof fetch {
  return createFetcher(new Credentials({ gatewayUrl, agentKey }), target, { proxy: true, ...(origins === undefined ? {} : { origins }) });
}

test("the request goes to the proxy as the caller made it", async () => {
  const url = `${api}/v1/items?page=2&q=a%20b`;
  const answer = await proxied()(url, {
    method: "POST",
    headers: { "X-Custom": "kept", "Content-Type": "text/plain", Authorization: "Bearer callers-own" },
    body: "the body",
  });
  assert.deepEqual([answer.status, await answer.text(), answer.headers.get("x-provider")], [201, "created", "yes"]);
  assert.equal(arrivals.length, 1);
  const [arrival] = arrivals;
  assert.deepEqual([arrival?.method, arrival?.path, arrival?.body], ["POST", "/v1/proxy", "the body"]);
  assert.equal(arrival?.headers["nexus-proxy-url"], url);
  assert.equal(arrival?.headers["nexus-workspace-id"], "ws-1");
  assert.equal(arrival?.headers["nexus-provider"], "github");
  assert.equal(arrival?.headers["nexus-connection-id"], undefined);
  assert.equal(arrival?.headers["authorization"], `Bearer ${agentKey}`, "the agent key, not the caller's own");
  assert.equal(arrival?.headers["x-custom"], "kept");
  assert.equal(arrival?.headers["content-type"], "text/plain");
  assert.equal(arrival?.headers["content-length"], "8", "the body's length, sent whole");
});

test("a connection is named by its id, and the caller's own Nexus-* headers are not passed on", async () => {
  await proxied({ connectionId })(`${api}/v1/items`, { headers: { "Nexus-Workspace-Id": "ws-forged" } });
  assert.equal(arrivals[0]?.headers["nexus-connection-id"], connectionId);
  assert.equal(arrivals[0]?.headers["nexus-workspace-id"], undefined);
  assert.deepEqual([arrivals[0]?.method, arrivals[0]?.body], ["GET", ""]);
});

for (const url of [`${api}/v1/items`, "https://user:pw@api.example.com/v1/items", "ftp://api.example.com/"]) {
  test(`a narrowing refuses ${url} before anything is sent`, async () => {
    await assert.rejects(
      proxied(byWorkspace, ["https://uploads.example.com"])(url, { method: "POST", body: "secret body" }),
      (error: unknown) => error instanceof NexusError && error.code === "origin_not_allowed" && !error.message.includes("pw"),
    );
    assert.equal(arrivals.length, 0, "nothing reached the Gateway");
  });
}

test("within the narrowing it is sent", async () => {
  assert.equal((await proxied(byWorkspace, [api])(`${api}/v1/items`)).status, 201);
});

test("the provider's answers come back whatever their status, a redirect unfollowed", async () => {
  const missing = await proxied()(`${api}/missing`);
  assert.deepEqual([missing.status, await missing.text()], [404, '{"code":"from_the_api"}']);
  const moved = await proxied()(`${api}/moved`);
  assert.deepEqual([moved.status, moved.headers.get("location")], [302, `${api}/elsewhere`]);
  assert.equal(arrivals.length, 2, "the redirect was not followed");
  await assert.rejects(proxied()(`${api}/moved`, { redirect: "error" }), TypeError, "redirect: error throws, as fetch would");
});

for (const [path, code, status, connection] of [
  ["/no-connection", "connection_not_found", 404, undefined],
  ["/revoked-grant", "attention_required", 409, connectionId],
  ["/proxy-only", "proxy_only_key", 403, undefined],
  ["/html", "unexpected_response", 502, undefined],
] as const) {
  test(`Nexus's own ${code} is a typed error`, async () => {
    const error = await proxied()(`${api}${path}`).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof NexusError, String(error));
    assert.deepEqual([error.code, error.status, error.connectionId], [code, status, connection]);
    assert.equal(error.requestId, code === "unexpected_response" ? undefined : "req-1");
    assert.ok(!error.message.includes(agentKey) && !String(error).includes(agentKey));
  });
}

test("insufficient_scope is its own type", async () => {
  await assert.rejects(
    proxied()(`${api}/scopes`),
    (error: unknown) => error instanceof InsufficientScopeError && error.missingScopes[0] === "read:org" && error.connectionId === connectionId,
  );
});

test("the proxy checks no scopes", () => {
  assert.throws(() => proxied({ ...byWorkspace, scopes: ["repo"] }), TypeError);
});

test("an unreachable Gateway is a typed error; the caller's abort stays an abort", async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const closed = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise((resolve) => probe.close(resolve));
  const unreachable = createFetcher(new Credentials({ gatewayUrl: closed, agentKey }), byWorkspace, { proxy: true });
  await assert.rejects(unreachable(`${api}/v1/items`), (error: unknown) => error instanceof NexusError && error.code === "gateway_unreachable");
  await assert.rejects(proxied()(`${api}/v1/items`, { signal: AbortSignal.abort() }), (error: unknown) => (error as Error).name === "AbortError");
});

test("a Gateway that never answers is a bounded wait", async () => {
  const silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const credentials = new Credentials({ gatewayUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, agentKey, timeoutMs: 300 });
  const started = Date.now();
  await assert.rejects(createFetcher(credentials, byWorkspace, { proxy: true })(`${api}/v1/items`), (error: unknown) => error instanceof NexusError && error.code === "gateway_unreachable");
  assert.ok(Date.now() - started < 5_000, "gave up at the caller's timeout");
  silent.closeAllConnections();
  silent.close();
});
