// A remote MCP server built with the official TypeScript SDK (@modelcontextprotocol/sdk),
// protected by a real authorization server (oidc-provider with open dynamic client
// registration, resource indicators and introspection), for Nexus's MCP end-to-end test. Both
// listen on 127.0.0.1 on free ports; prints one JSON line: {"issuer": ..., "mcp_url": ...}.
//
// The MCP server publishes its protected resource metadata, answers 401 with a challenge to a
// request without a valid token for itself (checked by introspection: active, and its audience
// is this server), and 403 `insufficient_scope` to `tools/call admin` without `mcp:write`.
// Tools: `whoami` (the token's subject and scopes) and `admin`.
// Test hooks on the authorization server: `POST /test/access-ttl?seconds=N` (the lifetime of
// access tokens issued from now on) and `GET /test/refreshes` (the `resource` of every refresh).
import http from 'node:http';
import Provider, { errors } from 'oidc-provider';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

const INTROSPECTOR = { id: 'mcp-introspector', secret: 'mcp-introspector-secret-51c2' };

const listen = (server) =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
const asHttp = http.createServer();
const mcpHttp = http.createServer();
const issuer = `http://127.0.0.1:${await listen(asHttp)}`;
const base = `http://127.0.0.1:${await listen(mcpHttp)}`;
const mcpUrl = `${base}/mcp`;
const metadataUrl = `${base}/.well-known/oauth-protected-resource/mcp`;

let accessTtl = 3600;
const refreshes = [];
const provider = new Provider(issuer, {
  clients: [
    // The resource server itself: it may only introspect.
    {
      client_id: INTROSPECTOR.id,
      client_secret: INTROSPECTOR.secret,
      redirect_uris: [],
      grant_types: [],
      response_types: [],
    },
  ],
  pkce: { required: () => true },
  scopes: ['openid', 'offline_access', 'mcp:read', 'mcp:write'],
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== mcpUrl) throw new errors.InvalidTarget();
        return { scope: 'mcp:read mcp:write', audience: mcpUrl, accessTokenFormat: 'opaque', accessTokenTTL: accessTtl };
      },
    },
  },
  // Every client allowed the refresh grant gets a refresh token (no offline_access needed).
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  ttl: { AuthorizationCode: 60, RefreshToken: 86400, Grant: 86400, Interaction: 600, Session: 86400 },
  findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
});
provider.on('server_error', (_ctx, error) => console.error('oidc-provider error:', error));
provider.on('grant.success', (ctx) => {
  if (ctx.oidc.params.grant_type === 'refresh_token') refreshes.push({ resource: ctx.oidc.params.resource ?? null });
});

const callback = provider.callback();
asHttp.on('request', (req, res) => {
  if (req.method === 'POST' && req.url.startsWith('/test/access-ttl?seconds=')) {
    accessTtl = Number(req.url.split('=')[1]);
    res.writeHead(204).end();
    return;
  }
  if (req.method === 'GET' && req.url === '/test/refreshes') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(refreshes));
    return;
  }
  callback(req, res);
});

/** The token's introspection, when it is an active token for this server. */
async function introspect(authorization) {
  const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
  if (!token) return null;
  const response = await fetch(`${issuer}/token/introspection`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${INTROSPECTOR.id}:${INTROSPECTOR.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  });
  const info = await response.json();
  const audience = Array.isArray(info.aud) ? info.aud : [info.aud];
  return info.active && audience.includes(mcpUrl) ? info : null;
}

function challenge(res, status, params) {
  const text = Object.entries({ ...params, resource_metadata: metadataUrl })
    .map(([name, value]) => `${name}="${value}"`)
    .join(', ');
  res.writeHead(status, { 'www-authenticate': `Bearer ${text}`, 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: params.error ?? 'invalid_token' }));
}

function server(info) {
  const mcp = new McpServer({ name: 'nexus-e2e-mcp', version: '1.0.0' });
  mcp.registerTool('whoami', { description: 'The subject and scopes of the token' }, async () => ({
    content: [{ type: 'text', text: JSON.stringify({ sub: info.sub, scope: info.scope }) }],
  }));
  mcp.registerTool('admin', { description: 'Needs mcp:write' }, async () => ({
    content: [{ type: 'text', text: 'admin done' }],
  }));
  return mcp;
}

mcpHttp.on('request', (req, res) => {
  serve(req, res).catch((error) => {
    console.error('mcp-server error:', error);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});

async function serve(req, res) {
  if (req.method === 'GET' && req.url === '/.well-known/oauth-protected-resource/mcp') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ resource: mcpUrl, authorization_servers: [issuer], scopes_supported: ['mcp:read'] }));
    return;
  }
  if (req.url !== '/mcp' || req.method !== 'POST') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  let body;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    res.writeHead(400).end();
    return;
  }
  const info = await introspect(req.headers.authorization);
  if (!info) {
    challenge(res, 401, { error: 'invalid_token', scope: 'mcp:read' });
    return;
  }
  const scopes = (info.scope ?? '').split(' ');
  if (body.method === 'tools/call' && body.params?.name === 'admin' && !scopes.includes('mcp:write')) {
    challenge(res, 403, { error: 'insufficient_scope', scope: 'mcp:read mcp:write' });
    return;
  }
  // Stateless: a server and a transport per request.
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  const mcp = server(info);
  res.on('close', () => {
    transport.close();
    mcp.close();
  });
  await mcp.connect(transport);
  await transport.handleRequest(req, res, body);
}

console.log(JSON.stringify({ issuer, mcp_url: mcpUrl }));
process.on('SIGTERM', () => process.exit(0));
