// What the SDK throws when the Gateway is not a Gateway: a proxy's HTML error page, or nothing
// listening. Always `NexusError` with a stable code; never the key.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Credentials, NexusError } from "../src/index.js";

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
