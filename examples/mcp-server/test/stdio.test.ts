// Drives the example over stdio as an MCP client would (initialize, tools/list, tools/call)
// against a running Nexus (set by `cargo xtask fuzz`: NEXUS_BROKER_URL, NEXUS_GATEWAY_URL,
// NEXUS_ADMIN_KEY) and a local fake API. Checks that stdout carries JSON-RPC only, that the key
// reached the API, and that no secret appears in the server's output.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

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

test("the MCP server over stdio", { skip: broker === undefined ? "no Nexus (set by cargo xtask fuzz)" : false }, async () => {
  assert.ok(broker !== undefined && gateway !== undefined && adminKey !== undefined);
  const consent = await post(`${broker}/v1/consents`, { workspace_id: "ws-mcp", provider: "keyed", return_url: "http://127.0.0.1:9/done" }, adminKey);
  await post(`${broker}/auth/capture`, { state: consent["state"], credentials: { api_key: "sk-mcp-secret" } });
  const issued = await post(`${broker}/v1/agent-keys`, { name: "mcp-example", workspace_ids: ["ws-mcp"] }, adminKey);
  const agentKey = String(issued["key"]);

  const received: IncomingHttpHeaders[] = [];
  const api = createServer((request, response) => {
    received.push(request.headers);
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ name: "Ada" }));
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/v1/me`;

  const child = spawn(process.execPath, [fileURLToPath(new URL("../src/server.js", import.meta.url))], {
    env: { ...process.env, NEXUS_GATEWAY_URL: gateway, NEXUS_AGENT_KEY: agentKey, EXAMPLE_API_URL: apiUrl },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let everything = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const waiting = new Map<number, (message: Record<string, unknown>) => void>();
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    everything += chunk.toString();
    let newline: number;
    while ((newline = stdout.indexOf("\n")) >= 0) {
      const line = stdout.slice(0, newline);
      stdout = stdout.slice(newline + 1);
      const message = JSON.parse(line) as Record<string, unknown>; // anything else on stdout fails here
      assert.equal(message["jsonrpc"], "2.0", line);
      const resolve = waiting.get(Number(message["id"]));
      if (resolve !== undefined) resolve(message);
    }
  });
  let nextId = 1;
  const call = (method: string, params: unknown): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    });

  const initialized = await call("initialize", {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "nexus-test", version: "0.0.0" },
  });
  assert.ok(initialized["result"] !== undefined, JSON.stringify(initialized));
  child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);

  const listed = (await call("tools/list", {}))["result"] as { tools: { name: string }[] };
  assert.deepEqual(listed.tools.map((tool) => tool.name), ["get_profile"]);

  const called = (await call("tools/call", { name: "get_profile", arguments: { workspace_id: "ws-mcp" } }))["result"] as {
    content: { text: string }[];
    isError?: boolean;
  };
  assert.equal(called.isError ?? false, false, JSON.stringify(called));
  assert.equal(called.content[0]?.text, 'HTTP 200: {"name":"Ada"}');
  assert.equal(received[0]?.["x-api-key"], "sk-mcp-secret", "the key reached the API");

  const refused = (await call("tools/call", { name: "get_profile", arguments: { workspace_id: "ws-other" } }))["result"] as {
    content: { text: string }[];
    isError?: boolean;
  };
  assert.equal(refused.isError, true);
  assert.match(refused.content[0]?.text ?? "", /^connection_not_found: /);

  child.stdin.end();
  await new Promise((resolve) => child.on("exit", resolve));
  api.close();
  for (const secret of ["sk-mcp-secret", agentKey]) {
    assert.ok(!stderr.includes(secret), "no secret on stderr");
    assert.ok(!everything.includes(secret), "no secret on stdout");
  }
});
