// The shared origin vectors (`clients/testdata/origins.json`): `requests` through `originAllowed`,
// `createFetcher` and `inject` (with the caller's narrowing), and `redirects` through
// `createFetcher` against two local servers (the envelope's origin, and a foreign one) that
// record what each hop received.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { Credentials, NexusError, createFetcher, envelopeFromJson, inject, originAllowed, type CredentialEnvelope } from "../src/index.js";

interface OriginCase {
  name: string;
  api_origins: string[];
  narrowed_to?: string[];
  url: string;
  allowed: boolean;
}

type Place = "allowed" | "foreign";

interface Hop {
  at: Place;
  status: number;
  credential: boolean;
  method?: string;
  body?: string;
}

interface RedirectCase {
  name: string;
  strategy: Record<string, unknown> & { type: string };
  credentials: Record<string, string>;
  method: string;
  body?: string;
  hops: Hop[];
}

interface Arrival {
  at: Place;
  path: string;
  method: string;
  body: string;
  headers: IncomingMessage["headers"];
}

// Run from the package directory (`npm test`), which sits next to `clients/testdata`.
const vectors = JSON.parse(readFileSync(resolve(process.cwd(), "..", "testdata", "origins.json"), "utf8")) as {
  requests: OriginCase[];
  redirects: RedirectCase[];
};

function envelopeWith(strategy: Record<string, unknown>, credentials: Record<string, string>, apiOrigins: string[]): CredentialEnvelope {
  return envelopeFromJson({
    connection_id: "0190a5b2-7c4e-7000-8000-000000000000",
    workspace_id: "ws-1",
    provider: "example",
    strategy,
    credentials,
    scopes: [],
    api_origins: apiOrigins,
  });
}

for (const vector of vectors.requests) {
  test(`origins: ${vector.name}`, async () => {
    const envelope = envelopeWith({ type: "oauth2" }, { access_token: "tok-origin" }, vector.api_origins);
    const narrowing = vector.narrowed_to === undefined ? {} : { origins: vector.narrowed_to };
    assert.equal(originAllowed(vector.url, vector.api_origins, vector.narrowed_to), vector.allowed);
    const refused = (error: unknown): boolean => error instanceof NexusError && error.code === "origin_not_allowed" && !error.message.includes("tok-origin");
    // Through createFetcher, whose `fetch` records what it is given instead of sending it.
    const sent: Request[] = [];
    const record = async (input: RequestInfo | URL): Promise<Response> => {
      sent.push(input as Request);
      return new Response("ok");
    };
    const fetcher = fetcherFor(envelope, vector.narrowed_to, record);
    if (vector.allowed) {
      await fetcher(vector.url);
      assert.equal(sent[0]?.headers.get("authorization"), "Bearer tok-origin");
    } else {
      await assert.rejects(fetcher(vector.url), refused);
      assert.equal(sent.length, 0);
    }
    // Through inject, which takes a Request: WHATWG's Request cannot hold a URL with userinfo at all.
    if (new URL(vector.url).username !== "") {
      assert.throws(() => new Request(vector.url), TypeError);
      return;
    }
    if (vector.allowed) {
      assert.equal((await inject(envelope, new Request(vector.url), narrowing)).headers.get("authorization"), "Bearer tok-origin");
    } else {
      await assert.rejects(inject(envelope, new Request(vector.url), narrowing), refused);
    }
  });
}

/** Refreshes asked of the Gateway stand-in. */
let refreshes = 0;

/** A fetcher whose Gateway (a `fetch` stand-in) serves one envelope, and `refreshed` on a refresh. */
function fetcherFor(
  envelope: CredentialEnvelope,
  origins?: readonly string[],
  api: typeof globalThis.fetch = globalThis.fetch,
  refreshed: CredentialEnvelope = envelope,
): typeof globalThis.fetch {
  const gateway = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    if (init?.method !== "POST") return Response.json(envelope);
    refreshes += 1;
    return Response.json(refreshed);
  };
  const credentials = new Credentials({ gatewayUrl: "http://gateway.invalid", agentKey: "nxa_test", fetch: gateway });
  return createFetcher(credentials, { workspaceId: "ws-1", provider: "example" }, { fetch: api, ...(origins === undefined ? {} : { origins }) });
}

// Two servers: hop i of the running case is served at `/hop/<i>` on the server its `at` names.
const arrivals: Arrival[] = [];
let hops: Hop[] = [];
/** An Authorization answered 401, as an API that revoked the token would. */
let stale: string | undefined;
const servers: Record<Place, Server> = { allowed: createServer(), foreign: createServer() };
const base: Record<Place, string> = { allowed: "", foreign: "" };
for (const at of ["allowed", "foreign"] as const) {
  servers[at].on("request", (request: IncomingMessage, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const path = request.url ?? "";
      arrivals.push({ at, path, method: request.method ?? "", body, headers: request.headers });
      const index = Number(/^\/hop\/(\d+)/.exec(path)?.[1] ?? "-1");
      const hop = hops[index];
      const next = hops[index + 1];
      if (hop === undefined) {
        response.writeHead(404).end();
        return;
      }
      const status = stale !== undefined && request.headers["authorization"] === stale ? 401 : hop.status;
      // The last hop of `too many redirects` below points at itself again and again.
      const location = status < 300 || status >= 400 ? undefined : next === undefined ? `${base[at]}/hop/${index}` : `${base[next.at]}/hop/${index + 1}`;
      response.writeHead(status, location === undefined ? {} : { location }).end(`answer ${index}`);
    });
  });
  await new Promise<void>((listening) => servers[at].listen(0, "127.0.0.1", listening));
  base[at] = `http://127.0.0.1:${(servers[at].address() as AddressInfo).port}`;
}
after(() => {
  for (const server of Object.values(servers)) {
    server.closeAllConnections();
    server.close();
  }
});

/** Whether a request arrived with the credential, in the place the strategy puts it. */
function credentialArrived(strategy: RedirectCase["strategy"], arrival: Arrival): boolean {
  switch (strategy.type) {
    case "query_param":
      return new URL(arrival.path, "http://x").searchParams.has(String(strategy["param_name"]));
    case "header":
    case "api_key":
      return arrival.headers[String(strategy["header_name"] ?? "X-API-Key").toLowerCase()] !== undefined;
    default:
      return arrival.headers["authorization"] !== undefined;
  }
}


for (const vector of vectors.redirects) {
  test(`redirects: ${vector.name}`, async () => {
    arrivals.length = 0;
    hops = vector.hops;
    const fetcher = fetcherFor(envelopeWith(vector.strategy, vector.credentials, [base.allowed]));
    const response = await fetcher(`${base.allowed}/hop/0`, { method: vector.method, ...(vector.body === undefined ? {} : { body: vector.body }) });
    assert.equal(response.status, vector.hops.at(-1)?.status);
    assert.equal(arrivals.length, vector.hops.length);
    vector.hops.forEach((hop, index) => {
      const arrival = arrivals[index];
      assert.ok(arrival !== undefined);
      assert.equal(`${arrival.at} ${arrival.path.split("?")[0]}`, `${hop.at} /hop/${index}`);
      assert.equal(credentialArrived(vector.strategy, arrival), hop.credential, `hop ${index}: credential`);
      if (hop.method !== undefined) assert.equal(arrival.method, hop.method, `hop ${index}: method`);
      if (hop.body !== undefined) assert.equal(arrival.body, hop.body, `hop ${index}: body`);
      for (const secret of Object.values(vector.credentials)) {
        if (!hop.credential) assert.ok(!JSON.stringify(arrival).includes(secret), `hop ${index}: no secret anywhere`);
      }
    });
  });
}

test("a request to a foreign origin is refused before anything is sent", async () => {
  arrivals.length = 0;
  hops = [{ at: "foreign", status: 200, credential: false }];
  const fetcher = fetcherFor(envelopeWith({ type: "oauth2" }, { access_token: "tok-x" }, [base.allowed]));
  await assert.rejects(fetcher(`${base.foreign}/hop/0`), (error: unknown) => error instanceof NexusError && error.code === "origin_not_allowed");
  const narrowed = fetcherFor(envelopeWith({ type: "oauth2" }, { access_token: "tok-x" }, [base.allowed]), [base.foreign]);
  await assert.rejects(narrowed(`${base.allowed}/hop/0`), (error: unknown) => error instanceof NexusError && error.code === "origin_not_allowed");
  assert.deepEqual(arrivals, []);
});

test("the caller's own Authorization and Cookie stop at the origin too", async () => {
  arrivals.length = 0;
  hops = [
    { at: "allowed", status: 302, credential: true },
    { at: "foreign", status: 200, credential: false },
  ];
  const fetcher = fetcherFor(envelopeWith({ type: "query_param", param_name: "key" }, { api_key: "k-1" }, [base.allowed]));
  await fetcher(`${base.allowed}/hop/0`, { headers: { authorization: "Bearer caller", cookie: "session=caller", "x-trace": "t" } });
  assert.equal(arrivals[0]?.headers["cookie"], "session=caller");
  assert.deepEqual([arrivals[1]?.headers["authorization"], arrivals[1]?.headers["cookie"], arrivals[1]?.headers["x-trace"]], [undefined, undefined, "t"]);
});

test("more than 10 redirects is too_many_redirects", async () => {
  arrivals.length = 0;
  hops = [{ at: "allowed", status: 302, credential: true }];
  const fetcher = fetcherFor(envelopeWith({ type: "oauth2" }, { access_token: "tok-x" }, [base.allowed]));
  await assert.rejects(fetcher(`${base.allowed}/hop/0`), (error: unknown) => error instanceof NexusError && error.code === "too_many_redirects");
  assert.equal(arrivals.length, 11);
});

test("a query parameter a Location repeats is not carried out of the origin", async () => {
  arrivals.length = 0;
  const echo = createServer((request, response) => {
    // Keeps the query (with the key) on its redirect, as path-preserving redirects do.
    response.writeHead(301, { location: `${base.foreign}/hop/1${(request.url ?? "").replace(/^[^?]*/, "")}` }).end();
  });
  await new Promise<void>((listening) => echo.listen(0, "127.0.0.1", listening));
  const origin = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  hops = [
    { at: "allowed", status: 301, credential: true },
    { at: "foreign", status: 200, credential: false },
  ];
  const fetcher = fetcherFor(envelopeWith({ type: "query_param", param_name: "api_key" }, { api_key: "k-echo" }, [origin]));
  try {
    await fetcher(`${origin}/start?page=2`);
    assert.deepEqual(arrivals.map((arrival) => `${arrival.at} ${arrival.path}`), ["foreign /hop/1?page=2"]);
  } finally {
    echo.closeAllConnections();
    echo.close();
  }
});

test("a refused token is refreshed once and the chain sent again", async () => {
  arrivals.length = 0;
  refreshes = 0;
  stale = "Bearer t1";
  hops = [
    { at: "allowed", status: 302, credential: true },
    { at: "allowed", status: 200, credential: true },
  ];
  const oauth2 = (token: string): CredentialEnvelope => envelopeWith({ type: "oauth2" }, { access_token: token }, [base.allowed]);
  try {
    const fetcher = fetcherFor(oauth2("t1"), undefined, globalThis.fetch, oauth2("t2"));
    const response = await fetcher(`${base.allowed}/hop/0`, { method: "POST", body: "payload" });
    assert.equal(response.status, 200);
    assert.deepEqual(
      arrivals.map((arrival) => [arrival.path, arrival.method, arrival.body, arrival.headers["authorization"]]),
      [
        ["/hop/0", "POST", "payload", "Bearer t1"],
        ["/hop/0", "POST", "payload", "Bearer t2"],
        ["/hop/1", "GET", "", "Bearer t2"],
      ],
    );
    assert.equal(refreshes, 1);
  } finally {
    stale = undefined;
  }
});

test("a 401 from a hop without the token refreshes nothing", async () => {
  arrivals.length = 0;
  refreshes = 0;
  hops = [
    { at: "allowed", status: 302, credential: true },
    { at: "foreign", status: 401, credential: false },
  ];
  const fetcher = fetcherFor(envelopeWith({ type: "oauth2" }, { access_token: "t1" }, [base.allowed]));
  assert.equal((await fetcher(`${base.allowed}/hop/0`)).status, 401);
  assert.equal(arrivals.length, 2);
  assert.equal(refreshes, 0);
});
