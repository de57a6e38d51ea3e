// Drives the example over stdio as MCP clients would (initialize, tools/list, tools/call) against a
// running Nexus (set by `cargo xtask fuzz`: NEXUS_BROKER_URL, NEXUS_GATEWAY_URL, NEXUS_ADMIN_KEY)
// and a local fake API that the `keyed` provider declares among its origins (created or patched
// here with the admin key). Proves that the call goes through the proxy with a `proxy_only` key
// and the API key reaches the API; that a tool call naming another workspace still acts on the
// configured one; that a workspace with no connection answers a URL elicitation (-32042) whose link
// is Nexus's capture form, and that completing it makes the call work; that a client which cannot
// show URLs gets no link; that stdout carries JSON-RPC only; and that no secret is ever printed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

const broker = process.env["NEXUS_BROKER_URL"];
const gateway = process.env["NEXUS_GATEWAY_URL"];
const adminKey = process.env["NEXUS_ADMIN_KEY"];
/** Names unique to this run, so the test can run again against the same Nexus. */
const run = randomUUID().slice(0, 8);
const returnUrl = "http://127.0.0.1:9/done";

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${broker}${path}`, {
    method,
    headers: { Authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json().catch(() => ({}))) as Record<string, unknown> };
}

/** `keyed` may send its key to `origin` (created here when the Nexus has no such provider). */
async function declareOrigin(origin: string): Promise<void> {
  const current = await admin("GET", "/v1/providers/keyed");
  const answer =
    current.status === 404
      ? await admin("POST", "/v1/providers", { name: "keyed", auth_type: "api_key", api_origins: [origin] })
      : await admin("PATCH", "/v1/providers/keyed", { api_origins: [...(current.body["api_origins"] as string[]), origin] });
  assert.ok(answer.status === 200 || answer.status === 201, `declaring ${origin} on keyed: ${answer.status}`);
}

/** Completes the hosted form's JSON variant for the consent whose link carries `state`. */
async function capture(state: string, apiKey: string): Promise<void> {
  const captured = await fetch(`${broker}/auth/capture`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ state, credentials: { api_key: apiKey } }),
  });
  assert.equal(captured.status, 200, "the capture");
}

async function connect(workspace: string, apiKey: string): Promise<void> {
  const consent = await admin("POST", "/v1/consents", { workspace_id: workspace, provider: "keyed", return_url: returnUrl });
  assert.equal(consent.status, 201, "the consent");
  await capture(String(consent.body["state"]), apiKey);
}

/** A `proxy_only` agent key for `workspaces` only, as the README says to make one for an MCP server. */
async function proxyOnlyKey(name: string, workspaces: string[]): Promise<string> {
  const issued = await admin("POST", "/v1/agent-keys", { name: `${name}-${run}`, workspace_ids: workspaces, proxy_only: true });
  assert.equal(issued.status, 201, "the agent key");
  return String(issued.body["key"]);
}

type Message = Record<string, unknown>;

/** The example over stdio, as an MCP client drives it; every line on its stdout must be JSON-RPC. */
class Session {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting = new Map<number, (message: Message) => void>();
  #nextId = 1;
  #pending = "";
  stdout = "";
  stderr = "";

  constructor(env: Record<string, string>) {
    // Only what the server needs: never the admin key this test holds.
    const { NEXUS_ADMIN_KEY: _admin, NEXUS_BROKER_URL: _broker, ...inherited } = process.env;
    this.#child = spawn(process.execPath, [fileURLToPath(new URL("../src/server.js", import.meta.url))], {
      env: { ...inherited, NEXUS_GATEWAY_URL: gateway ?? "", NEXUS_RETURN_URL: returnUrl, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.#child.stderr.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.#child.stdout.on("data", (chunk: Buffer) => {
      this.stdout += chunk.toString();
      this.#pending += chunk.toString();
      let newline: number;
      while ((newline = this.#pending.indexOf("\n")) >= 0) {
        const line = this.#pending.slice(0, newline);
        this.#pending = this.#pending.slice(newline + 1);
        const message = JSON.parse(line) as Message; // anything else on stdout fails here
        assert.equal(message["jsonrpc"], "2.0", line);
        this.#waiting.get(Number(message["id"]))?.(message);
      }
    });
  }

  request(method: string, params: unknown): Promise<Message> {
    return new Promise((resolve) => {
      const id = this.#nextId++;
      this.#waiting.set(id, resolve);
      this.#child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    });
  }

  /** `initialize` at MCP 2025-11-25 with the client's `capabilities`, then `initialized`. */
  async start(capabilities: Record<string, unknown>): Promise<void> {
    const initialized = await this.request("initialize", { protocolVersion: "2025-11-25", capabilities, clientInfo: { name: "nexus-test", version: "0.0.0" } });
    assert.ok(initialized["result"] !== undefined, JSON.stringify(initialized));
    this.#child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
  }

  callTool(args: Record<string, unknown>): Promise<Message> {
    return this.request("tools/call", { name: "get_profile", arguments: args });
  }

  async close(): Promise<void> {
    this.#child.stdin.end();
    if (this.#child.exitCode === null) await new Promise((resolve) => this.#child.on("exit", resolve));
  }
}

/** A client that can send its user to a URL (MCP 2025-11-25). */
const showsUrls = { elicitation: { url: {} } };

interface ToolResult {
  content: { text: string }[];
  isError?: boolean;
}

function text(answer: Message): string {
  const result = answer["result"] as ToolResult | undefined;
  assert.ok(result !== undefined, JSON.stringify(answer));
  assert.equal(result.isError ?? false, false, JSON.stringify(result));
  return result.content[0]?.text ?? "";
}

test("the MCP server over stdio", { skip: broker === undefined ? "no Nexus (set by cargo xtask fuzz)" : false }, async (t) => {
  assert.ok(broker !== undefined && gateway !== undefined && adminKey !== undefined);
  const received: string[] = []; // the X-API-Key of each request that reached the API, per step
  const everReceived: string[] = [];
  const api = createServer((request, response) => {
    received.push(String(request.headers["x-api-key"]));
    everReceived.push(String(request.headers["x-api-key"]));
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ name: "Ada" }));
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/v1/me`;
  await declareOrigin(new URL(apiUrl).origin);

  const workspace = `ws-mcp-${run}`;
  await connect(workspace, "sk-mcp-secret");
  await connect("another-workspace", "sk-mcp-another");
  const restrictedKey = await proxyOnlyKey("mcp-example", [workspace]);
  const secrets = ["sk-mcp-secret", "sk-mcp-another", "sk-mcp-new", restrictedKey, adminKey];
  const sessions: Session[] = [];
  const session = (env: Record<string, string>): Session => {
    const started = new Session({ EXAMPLE_API_URL: apiUrl, ...env });
    sessions.push(started);
    return started;
  };

  await t.test("a call goes through the proxy; a workspace argument changes nothing", async () => {
    const mcp = session({ NEXUS_AGENT_KEY: restrictedKey, NEXUS_WORKSPACE_ID: workspace });
    await mcp.start(showsUrls);
    const listed = (await mcp.request("tools/list", {}))["result"] as { tools: { name: string; inputSchema: { properties?: object } }[] };
    assert.deepEqual(listed.tools.map((tool) => tool.name), ["get_profile"]);
    assert.deepEqual(Object.keys(listed.tools[0]?.inputSchema.properties ?? {}), [], "no tool takes a workspace");
    assert.equal(text(await mcp.callTool({})), 'HTTP 200: {"name":"Ada"}');
    assert.equal(text(await mcp.callTool({ workspace_id: "another-workspace" })), 'HTTP 200: {"name":"Ada"}');
    assert.deepEqual(received, ["sk-mcp-secret", "sk-mcp-secret"], "Nexus applied the configured workspace's key");
  });

  await t.test("even a key that could reach another workspace acts on the configured one", async () => {
    // Not Nexus refusing the other workspace: the server never asks for it.
    const widerKey = await proxyOnlyKey("mcp-example-wider", [workspace, "another-workspace"]);
    secrets.push(widerKey);
    const mcp = session({ NEXUS_AGENT_KEY: widerKey, NEXUS_WORKSPACE_ID: workspace });
    await mcp.start(showsUrls);
    received.length = 0;
    for (const args of [{ workspace_id: "another-workspace" }, { workspaceId: "another-workspace", provider: "other" }]) {
      assert.equal(text(await mcp.callTool(args)), 'HTTP 200: {"name":"Ada"}');
    }
    assert.deepEqual(received, ["sk-mcp-secret", "sk-mcp-secret"]);
  });

  const empty = `ws-mcp-empty-${run}`;
  const emptyKey = await proxyOnlyKey("mcp-example-empty", [empty]);
  secrets.push(emptyKey);

  await t.test("a workspace with no connection answers a URL elicitation with a working consent link", async () => {
    const mcp = session({ NEXUS_AGENT_KEY: emptyKey, NEXUS_WORKSPACE_ID: empty });
    await mcp.start(showsUrls);
    received.length = 0;
    const answer = await mcp.callTool({ workspace_id: workspace });
    const error = answer["error"] as { code: number; message: string; data: { elicitations: Record<string, string>[] } } | undefined;
    assert.ok(error !== undefined, JSON.stringify(answer));
    assert.equal(error.code, -32042, "URL elicitation required");
    const [elicitation] = error.data.elicitations;
    assert.ok(elicitation !== undefined);
    assert.equal(elicitation["mode"], "url");
    assert.ok((elicitation["elicitationId"] ?? "").length > 0 && (elicitation["message"] ?? "").includes("keyed"), JSON.stringify(elicitation));
    const link = new URL(elicitation["url"] ?? "");
    let page = await fetch(link, { redirect: "manual" });
    if (page.status >= 300 && page.status < 400) page = await fetch(new URL(page.headers.get("location") ?? "", link), { redirect: "manual" });
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assert.ok(html.includes("<form") && html.includes("Connect keyed"), "Nexus's hosted capture form");
    assert.deepEqual(received, [], "nothing reached the API");

    // The user completes the form: the same tool call now works, with the key they entered, in
    // the configured workspace (the argument above named another one).
    await capture(link.searchParams.get("state") ?? "", "sk-mcp-new");
    assert.equal(text(await mcp.callTool({})), 'HTTP 200: {"name":"Ada"}');
    assert.deepEqual(received, ["sk-mcp-new"]);
  });

  await t.test("a client that cannot show URLs gets no link", async () => {
    const unconnected = `ws-mcp-none-${run}`;
    const key = await proxyOnlyKey("mcp-example-none", [unconnected]);
    secrets.push(key);
    const mcp = session({ NEXUS_AGENT_KEY: key, NEXUS_WORKSPACE_ID: unconnected });
    await mcp.start({});
    const result = (await mcp.callTool({}))["result"] as ToolResult;
    assert.equal(result.isError, true);
    assert.match(result.content[0]?.text ?? "", /^connection_not_found: /);
    assert.ok(!(result.content[0]?.text ?? "").includes("http"), "no consent link for the model to pass on");
  });

  await Promise.all(sessions.map((started) => started.close()));
  api.close();
  assert.ok(everReceived.length >= 5 && !everReceived.includes("sk-mcp-another"), "another workspace's key never reached the API");
  for (const started of sessions) {
    for (const secret of secrets) {
      assert.ok(!started.stdout.includes(secret), "no secret on stdout");
      assert.ok(!started.stderr.includes(secret), "no secret on stderr");
    }
  }
});
