// Against a running Nexus with an API-key provider `keyed` (run by `cargo xtask fuzz`, which
// sets NEXUS_BROKER_URL, NEXUS_GATEWAY_URL and NEXUS_ADMIN_KEY): connects `ws-ts` through the
// hosted form's JSON variant, then `createFetcher` delivers the key to a local API (declared among
// the provider's origins first), concurrent misses make one Gateway call, and a revoked connection
// surfaces as `NexusError`. Then `createFetcher(..., { proxy: true })` delivers the key of a
// `proxy_only` key's workspace to a local API through the real Gateway's proxy, while that key
// reads no credential (`proxy_only_key`).

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Credentials, InsufficientScopeError, NexusError, createFetcher, createGatewayClient } from "../src/index.js";

const broker = process.env["NEXUS_BROKER_URL"];
const gateway = process.env["NEXUS_GATEWAY_URL"];
const adminKey = process.env["NEXUS_ADMIN_KEY"];

async function post(url: string, body: unknown, key?: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key === undefined ? {} : { Authorization: `Bearer ${key}` }) },
    body: JSON.stringify(body),
  });
  assert.ok(response.ok, `${url}: ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

/**
 * Adds `origins` to those the provider's credentials may be sent to (the SDK refuses any other):
 * the local APIs here listen on ports chosen at random. Before the first resolve, so no cached
 * envelope predates them.
 */
async function allowOrigins(provider: string, ...origins: string[]): Promise<void> {
  const admin = { Authorization: `Bearer ${adminKey ?? ""}` };
  const current = (await (await fetch(`${broker ?? ""}/v1/providers/${provider}`, { headers: admin })).json()) as { api_origins: string[] };
  const patched = await fetch(`${broker ?? ""}/v1/providers/${provider}`, {
    method: "PATCH",
    headers: { ...admin, "content-type": "application/json" },
    body: JSON.stringify({ api_origins: [...current.api_origins, ...origins] }),
  });
  assert.equal(patched.status, 200, `declaring origins on ${provider}`);
}

test("createFetcher against a running Nexus", { skip: broker === undefined ? "no Nexus (set by cargo xtask fuzz)" : false }, async () => {
  assert.ok(broker !== undefined && gateway !== undefined && adminKey !== undefined);
  const received: IncomingHttpHeaders[] = [];
  const api = createServer((request, response) => {
    received.push(request.headers);
    response.end("ok");
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}/v1/me`;
  await allowOrigins("keyed", new URL(url).origin);
  const consent = await post(`${broker}/v1/consents`, { workspace_id: "ws-ts", provider: "keyed", return_url: "http://127.0.0.1:9/done" }, adminKey);
  await post(`${broker}/auth/capture`, { state: consent["state"], credentials: { api_key: "sk-ts" } });
  const issued = await post(`${broker}/v1/agent-keys`, { name: "typescript-sdk", workspace_ids: ["ws-ts"] }, adminKey);
  const agentKey = String(issued["key"]);

  const typed = createGatewayClient({ baseUrl: gateway, key: agentKey });
  assert.ok(!String(typed).includes(agentKey), "the key is hidden from the client's string form");
  const resolved = await typed.GET("/v1/resolve", { params: { query: { workspace_id: "ws-ts", provider: "keyed" } } });
  assert.equal(resolved.data?.credentials["api_key"], "sk-ts");
  assert.equal(resolved.data?.expires_at, undefined, "an API key does not expire: the field is absent");

  let resolves = 0;
  const counting: typeof fetch = (input, init) => {
    if (new URL(input instanceof Request ? input.url : String(input)).pathname === "/v1/resolve") resolves += 1;
    return fetch(input, init);
  };
  const credentials = new Credentials({ gatewayUrl: gateway, agentKey, fetch: counting });
  const fetcher = createFetcher(credentials, { workspaceId: "ws-ts", provider: "keyed" });
  const statuses = await Promise.all(Array.from({ length: 16 }, async () => (await fetcher(url)).status));
  assert.deepEqual(statuses, Array(16).fill(200));
  assert.equal(resolves, 1, "16 concurrent requests, one Gateway call");
  assert.ok(received.every((headers) => headers["x-api-key"] === "sk-ts"), "the key arrived");
  assert.ok(!String(credentials).includes(agentKey));

  const revoked = await fetch(`${broker}/v1/connections/${resolved.data?.connection_id}`, {
    method: "DELETE",
    headers: { Authorization: `Bearer ${adminKey}` },
  });
  assert.equal(revoked.status, 204);
  const byId = createFetcher(new Credentials({ gatewayUrl: gateway, agentKey }), { connectionId: String(resolved.data?.connection_id) });
  await assert.rejects(byId(url), (error: unknown) => error instanceof NexusError && error.code === "connection_revoked" && error.status === 409 && !error.message.includes("sk-ts"));
  api.close();
});

test("createFetcher's proxy mode with a proxy_only key", { skip: broker === undefined ? "no Nexus (set by cargo xtask fuzz)" : false }, async () => {
  assert.ok(broker !== undefined && gateway !== undefined && adminKey !== undefined);
  const received: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const api = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      received.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers, body });
      response.setHeader("content-type", "application/json");
      response.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}/v1/items`;
  await allowOrigins("keyed", new URL(url).origin);
  const consent = await post(`${broker}/v1/consents`, { workspace_id: "ws-ts-proxy", provider: "keyed", return_url: "http://127.0.0.1:9/done" }, adminKey);
  await post(`${broker}/auth/capture`, { state: consent["state"], credentials: { api_key: "sk-ts-proxy" } });
  const issued = await post(`${broker}/v1/agent-keys`, { name: "typescript-proxy", workspace_ids: ["ws-ts-proxy"], proxy_only: true }, adminKey);
  const agentKey = String(issued["key"]);
  const credentials = new Credentials({ gatewayUrl: gateway, agentKey });
  const target = { workspaceId: "ws-ts-proxy", provider: "keyed" };

  await assert.rejects(credentials.get(target), (error: unknown) => error instanceof NexusError && error.code === "proxy_only_key" && error.status === 403);
  const fetcher = createFetcher(credentials, target, { proxy: true });
  const answer = await fetcher(`${url}?page=1`, { method: "POST", headers: { "content-type": "application/json", "x-caller": "kept" }, body: '{"name":"Ada"}' });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get("nexus-proxied"), "true");
  assert.deepEqual(await answer.json(), { ok: true });
  assert.equal(received.length, 1);
  const [arrival] = received;
  assert.deepEqual([arrival?.method, arrival?.url, arrival?.body], ["POST", "/v1/items?page=1", '{"name":"Ada"}'], "the request as made");
  assert.equal(arrival?.headers["x-api-key"], "sk-ts-proxy", "Nexus applied the key");
  assert.equal(arrival?.headers["x-caller"], "kept");
  assert.ok(!JSON.stringify(arrival?.headers).includes(agentKey) && arrival?.headers["nexus-provider"] === undefined, "neither the agent key nor Nexus's headers reach the API");

  const narrowed = createFetcher(credentials, target, { proxy: true, origins: ["https://elsewhere.example"] });
  await assert.rejects(narrowed(url), (error: unknown) => error instanceof NexusError && error.code === "origin_not_allowed");
  const outside = createFetcher(credentials, { workspaceId: "ws-1", provider: "keyed" }, { proxy: true });
  await assert.rejects(outside(url), (error: unknown) => error instanceof NexusError && error.code === "connection_not_found" && error.status === 404 && !error.message.includes(agentKey));
  assert.equal(received.length, 1, "neither refusal reached the API");
  api.close();
});

const issuer = process.env["NEXUS_OIDC_ISSUER"];

test("createFetcher with an OAuth2 connection at the real OpenID provider", { skip: issuer === undefined ? "no OpenID provider (set by cargo xtask fuzz)" : false }, async () => {
  assert.ok(broker !== undefined && gateway !== undefined && adminKey !== undefined && issuer !== undefined);
  // An API that answers 401 to the first token it sees (used below).
  const seen: string[] = [];
  const api = createServer((request, response) => {
    seen.push(String(request.headers["authorization"]));
    response.statusCode = seen.length === 1 ? 401 : 200;
    response.end();
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  const refusing = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  await allowOrigins("oidc", new URL(issuer).origin, refusing);
  const issued = await post(`${broker}/v1/agent-keys`, { name: "typescript-oauth", workspace_ids: ["ws-ts-oauth"] }, adminKey);
  const fetcher = createFetcher(new Credentials({ gatewayUrl: gateway, agentKey: String(issued["key"]) }), { workspaceId: "ws-ts-oauth", provider: "oidc" });
  const me = await fetcher(`${issuer}/me`);
  assert.equal(me.status, 200);
  assert.ok("sub" in ((await me.json()) as Record<string, unknown>));

  // The API that answers 401 to the first token it sees: one refresh, one more send.
  const answer = await fetcher(`${refusing}/v1/me`);
  api.close();
  assert.equal(answer.status, 200);
  assert.equal(seen.length, 2);
  assert.notEqual(seen[0], seen[1], "refreshed, sent again");
  const again = await fetch(`${issuer}/me`, { headers: { Authorization: seen[1] ?? "" } });
  assert.equal(again.status, 200, "the new token works at the provider");

  // A scope the grant lacks: a typed error, then an incremental consent of the same connection.
  const credentials = new Credentials({ gatewayUrl: gateway, agentKey: String(issued["key"]) });
  const wider = createFetcher(credentials, { workspaceId: "ws-ts-oauth", provider: "oidc", scopes: ["openid", "profile"] });
  const refused = await wider(`${issuer}/me`).then(
    () => undefined,
    (error: unknown) => error,
  );
  assert.ok(refused instanceof InsufficientScopeError, String(refused));
  assert.deepEqual(refused.missingScopes, ["profile"]);
  const started = await credentials.requestScopes(refused, { workspaceId: "ws-ts-oauth", provider: "oidc", returnUrl: "http://127.0.0.1:9/done" });
  assert.equal(started.connection_id, refused.connectionId, "the same connection");
  const scope = (new URL(started.auth_url).searchParams.get("scope") ?? "").split(" ");
  assert.ok(scope.includes("profile") && scope.includes("email"), `the union of the grant and profile: ${scope.join(" ")}`);
});
