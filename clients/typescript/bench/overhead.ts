// Per-request overhead of `createFetcher` with a cached credential against a bare `fetch` to
// the same URL (`cargo xtask bench sdk` runs it): alternating rounds, medians, as JSON on stdout.
// Usage: node overhead.js GATEWAY_URL AGENT_KEY WORKSPACE PROVIDER TARGET_URL REQUESTS ROUNDS

import { Credentials, createFetcher } from "../src/index.js";

const [gatewayUrl, agentKey, workspaceId, provider, target, requestsText, roundsText] = process.argv.slice(2);
if (gatewayUrl === undefined || agentKey === undefined || workspaceId === undefined || provider === undefined || target === undefined) {
  throw new Error("usage: overhead GATEWAY_URL AGENT_KEY WORKSPACE PROVIDER TARGET_URL REQUESTS ROUNDS");
}
const requests = Number(requestsText);
const rounds = Number(roundsText);
const fetcher = createFetcher(new Credentials({ gatewayUrl, agentKey }), { workspaceId, provider });

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

for (let i = 0; i < 100; i += 1) {
  await (await fetch(target)).arrayBuffer();
  await (await fetcher(target)).arrayBuffer();
}
const bare: number[] = [];
const sdk: number[] = [];
for (let round = 0; round < rounds; round += 1) {
  let started = performance.now();
  for (let i = 0; i < requests; i += 1) await (await fetch(target)).arrayBuffer();
  bare.push(((performance.now() - started) * 1000) / requests);
  started = performance.now();
  for (let i = 0; i < requests; i += 1) await (await fetcher(target)).arrayBuffer();
  sdk.push(((performance.now() - started) * 1000) / requests);
}
console.log(JSON.stringify({ bare_us: Number(median(bare).toFixed(2)), sdk_us: Number(median(sdk).toFixed(2)) }));
