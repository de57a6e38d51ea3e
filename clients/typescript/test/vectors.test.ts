// The shared strategy vectors (`clients/testdata/strategies.json`), applied by `inject`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { NexusError } from "../src/errors.js";
import { envelopeFromJson, inject } from "../src/inject.js";

interface Case {
  name: string;
  strategy: Record<string, unknown>;
  credentials: Record<string, string>;
  api_origins: string[];
  api_headers?: Record<string, string>;
  api_query?: Record<string, string>;
  request: { method: string; url: string };
  clock?: string;
  expected?: { method: string; url: string; headers: Record<string, string> };
  error?: string;
}

// Run from the package directory (`npm test`), which sits next to `clients/testdata`.
const vectors = JSON.parse(
  readFileSync(resolve(process.cwd(), "..", "testdata", "strategies.json"), "utf8"),
) as { cases: Case[] };

for (const vector of vectors.cases) {
  test(vector.name, async () => {
    const envelope = {
      connection_id: "0190a5b2-7c4e-7000-8000-000000000000",
      workspace_id: "ws-1",
      provider: "example",
      strategy: vector.strategy,
      credentials: vector.credentials,
      scopes: [],
      api_origins: vector.api_origins,
      ...(vector.api_headers === undefined ? {} : { api_headers: vector.api_headers }),
      ...(vector.api_query === undefined ? {} : { api_query: vector.api_query }),
    };
    const request = new Request(vector.request.url, { method: vector.request.method });
    if (vector.error !== undefined) {
      await assert.rejects(
        async () => inject(envelopeFromJson(envelope), request),
        (error: unknown) =>
          error instanceof NexusError &&
          error.code === vector.error &&
          !Object.values(vector.credentials).some((secret) => error.message.includes(secret)),
      );
      return;
    }
    const clock = vector.clock === undefined ? new Date() : new Date(vector.clock);
    const sent = await inject(envelopeFromJson(envelope), request, clock);
    const expected = vector.expected;
    assert.ok(expected !== undefined);
    assert.equal(sent.method, expected.method);
    assert.equal(sent.url, expected.url);
    const added: Record<string, string> = {};
    sent.headers.forEach((value, name) => {
      if (!request.headers.has(name)) added[name] = value;
    });
    assert.deepEqual(added, expected.headers);
  });
}
