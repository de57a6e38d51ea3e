// The MCP conformance suite's client, with Nexus as its authorization layer: what an agent does
// with Nexus in front of a remote MCP server. `@modelcontextprotocol/conformance` runs it as
// `node client.mjs <server URL>` once per scenario (MCP_CONFORMANCE_SCENARIO, and for
// pre-registration MCP_CONFORMANCE_CONTEXT with the client's id and secret).
//
// It registers the server in Nexus by URL only (with the pre-registered client when the
// scenario gives one), then speaks MCP: on a 401 or 403 challenge it asks Nexus for a consent
// (the challenge's scopes; an incremental one, the union, when it already has a connection),
// plays the user's browser (the scenario's authorization server approves at once), resolves
// the token through the Gateway and sends the request again, at most MAX_CONSENTS times.
// Nexus does the rest: discovery, registration, PKCE, resource, iss. It needs a running Nexus:
// NEXUS_BROKER_URL, NEXUS_GATEWAY_URL, NEXUS_ADMIN_KEY.

const MAX_CONSENTS = 3;
const RETURN_URL = "http://127.0.0.1:9/done";

const serverUrl = process.argv[process.argv.length - 1];
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? "unknown";
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? "{}");
const broker = process.env.NEXUS_BROKER_URL;
const gateway = process.env.NEXUS_GATEWAY_URL;
const adminKey = process.env.NEXUS_ADMIN_KEY;
if (!broker || !gateway || !adminKey) {
  console.error("NEXUS_BROKER_URL, NEXUS_GATEWAY_URL and NEXUS_ADMIN_KEY name the Nexus to use");
  process.exit(2);
}

const suffix = `${scenario.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}-${Math.random().toString(36).slice(2, 8)}`;
const provider = `conf-${suffix}`.slice(0, 63).replace(/-+$/, "");
const workspace = `ws-${suffix}`;

async function json(response, what) {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function nexus(base, path, key, body) {
  const response = await fetch(`${base}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return json(response, path);
}

// The provider, by URL only (the operator's own client when the scenario pre-registered one).
const created = { name: provider, auth_type: "oauth2", mcp_server_url: serverUrl };
if (context.client_id) {
  created.client_id = context.client_id;
  created.client_secret = context.client_secret;
}
await nexus(broker, "/v1/providers", adminKey, created);
const agent = await nexus(broker, "/v1/agent-keys", adminKey, { name: provider, workspace_ids: [workspace] });

let connectionId = null;
let consents = 0;

/** Asks Nexus for a consent with `scopes`, and completes it as the user's browser would. */
async function consent(scopes) {
  consents += 1;
  const request = { workspace_id: workspace, provider, return_url: RETURN_URL };
  if (scopes.length > 0) request.scopes = scopes;
  if (connectionId) request.connection_id = connectionId;
  const started = await nexus(gateway, "/v1/request-connection", agent.key, request);
  connectionId = started.connection_id;
  // The authorization server answers with a redirect to Nexus's callback, which answers with a
  // redirect to the return URL carrying the outcome.
  const authorized = await fetch(started.auth_url, { redirect: "manual" });
  const callback = authorized.headers.get("location");
  if (!callback) throw new Error(`the authorization server answered HTTP ${authorized.status} without a redirect`);
  const back = await fetch(callback, { redirect: "manual" });
  const landed = new URL(back.headers.get("location") ?? RETURN_URL);
  if (landed.searchParams.get("status") !== "success") {
    throw new Error(`the consent failed: ${landed.searchParams.get("error")}`);
  }
}

async function token() {
  if (!connectionId) return null;
  const envelope = await nexus(gateway, `/v1/token/${connectionId}`, agent.key);
  return envelope.credentials.access_token;
}

/** The challenge's scopes (RFC 6750 `scope`), from a 401 or 403. */
function challengedScopes(response) {
  const header = response.headers.get("www-authenticate") ?? "";
  const match = /scope="([^"]*)"/i.exec(header);
  return match ? match[1].split(/\s+/).filter(Boolean) : [];
}

/** One JSON-RPC message to the MCP server, consenting (again) on a challenge. */
async function mcp(message) {
  for (;;) {
    const accessToken = await token();
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    if (accessToken) headers.authorization = `Bearer ${accessToken}`;
    const response = await fetch(serverUrl, { method: "POST", headers, body: JSON.stringify(message) });
    if (response.status === 401 || response.status === 403) {
      if (consents >= MAX_CONSENTS) throw new Error(`still HTTP ${response.status} after ${consents} consents`);
      await response.text();
      await consent(challengedScopes(response));
      continue;
    }
    const text = await response.text();
    if (!response.ok) throw new Error(`${message.method}: HTTP ${response.status} ${text}`);
    if (!("id" in message)) return null;
    // A JSON answer, or server-sent events whose `data:` lines carry it.
    const data = text.trimStart().startsWith("{")
      ? text
      : text
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).trim())
          .find((line) => line.includes(`"id"`));
    const answer = JSON.parse(data ?? "null");
    if (!answer || answer.error) throw new Error(`${message.method}: ${JSON.stringify(answer)}`);
    return answer.result;
  }
}

await mcp({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "nexus-conformance", version: "1.0.0" } },
});
await mcp({ jsonrpc: "2.0", method: "notifications/initialized" });
const tools = await mcp({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} });
const first = tools?.tools?.[0]?.name;
if (first) await mcp({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: first, arguments: {} } });
console.log(`${scenario}: done after ${consents} consent(s)`);
