// A real OpenID provider (the certified `oidc-provider` package) for Nexus's end-to-end tests.
// Listens on 127.0.0.1 on a free port and prints one JSON line: {"issuer": "http://127.0.0.1:PORT"}.
// Environment: REDIRECT_URI (Nexus's callback), CLIENT_SECRET, AUTH_METHOD (client_secret_basic
// or client_secret_post). Refresh tokens rotate on every use, and a used one presented again
// revokes the whole grant (reuse detection, as Auth0 and Okta do with rotation on).
// Test hooks: `POST /test/revoke-grants` withdraws every grant issued so far, as a user removing
// the app's access would; `GET /test/issued-tokens` lists every token issued;
// `POST /test/access-ttl?seconds=N` sets the lifetime of access tokens issued from now on;
// `GET /test/grant-counts` counts refresh grants that succeeded and token requests that failed.
import http from 'node:http';
import Provider from 'oidc-provider';

const redirectUri = process.env.REDIRECT_URI;
const clientSecret = process.env.CLIENT_SECRET;
if (!redirectUri || !clientSecret) {
  console.error('REDIRECT_URI and CLIENT_SECRET are required');
  process.exit(2);
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  // ISSUER_HOST (such as `acme.localhost`) names it as a tenant host would; it still listens on
  // 127.0.0.1, where every name under `localhost` resolves.
  const issuer = `http://${process.env.ISSUER_HOST || '127.0.0.1'}:${port}`;
  const grants = new Set();
  let accessTtl = 3600;
  const counts = { refresh_success: 0, errors: 0, error_codes: [] };
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'nexus',
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: process.env.AUTH_METHOD || 'client_secret_basic',
    }],
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      userinfo: { enabled: true },
    },
    rotateRefreshToken: true,
    ttl: { AccessToken: () => accessTtl, AuthorizationCode: 60, IdToken: 3600, RefreshToken: 86400, Grant: 86400, Interaction: 600, Session: 86400 },
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, email: `${id}@example.test`, name: id }),
    }),
  });
  const issued = [];
  provider.on('authorization_code.saved', (code) => grants.add(code.grantId));
  // Opaque tokens are their jti: kept so the test can search for them where they must not be.
  provider.on('access_token.saved', (token) => issued.push(token.jti));
  provider.on('refresh_token.saved', (token) => issued.push(token.jti));
  provider.on('server_error', (_ctx, error) => console.error('oidc-provider error:', error));
  provider.on('grant.success', (ctx) => {
    if (ctx.oidc.params.grant_type === 'refresh_token') counts.refresh_success += 1;
  });
  provider.on('grant.error', (_ctx, error) => {
    counts.errors += 1;
    counts.error_codes.push(error.error);
  });

  const callback = provider.callback();
  server.on('request', async (req, res) => {
    if (req.method === 'POST' && req.url === '/test/revoke-grants') {
      for (const grantId of grants) {
        await provider.RefreshToken.revokeByGrantId(grantId);
        await provider.AccessToken.revokeByGrantId(grantId);
        const grant = await provider.Grant.find(grantId);
        if (grant) await grant.destroy();
      }
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'POST' && req.url.startsWith('/test/access-ttl?seconds=')) {
      accessTtl = Number(req.url.split('=')[1]);
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'GET' && req.url === '/test/grant-counts') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(counts));
      return;
    }
    if (req.method === 'GET' && req.url === '/test/issued-tokens') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issued));
      return;
    }
    callback(req, res);
  });
  console.log(JSON.stringify({ issuer }));
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
