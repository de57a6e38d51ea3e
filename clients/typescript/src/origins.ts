// Where a credential may be sent: a URL's origin against the envelope's `api_origins` (testdata/origins.json).

const DEFAULT_PORTS: Readonly<Record<string, string>> = { "http:": "80", "https:": "443" };
const WILDCARD = "://*.";

/** Scheme, lowercase ASCII host (an IDN in punycode, an IPv6 address in brackets) and port. */
export interface Origin {
  scheme: string;
  host: string;
  port: string;
}

/**
 * The URL's origin; `undefined` when it can match no origin: not http(s), no host, userinfo
 * (`https://api.example.com@attacker.example` is a request to attacker.example), or a host with a
 * trailing dot (another name than the one without it).
 */
export function originOf(url: string | URL): Origin | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const port = parsed.port === "" ? DEFAULT_PORTS[parsed.protocol] : parsed.port;
  // WHATWG's hostname is already lowercase ASCII, an IDN in its punycode form.
  const host = parsed.hostname;
  if (port === undefined || host === "" || host.endsWith(".") || parsed.username !== "" || parsed.password !== "") {
    return undefined;
  }
  return { scheme: parsed.protocol.slice(0, -1), host, port };
}

/** An origin's canonical text (`scheme://host[:port]`, the default port left out); it is not secret. */
export function originText(origin: Origin): string {
  const port = DEFAULT_PORTS[`${origin.scheme}:`] === origin.port ? "" : `:${origin.port}`;
  return `${origin.scheme}://${origin.host}${port}`;
}

function isAddress(host: string): boolean {
  return host.startsWith("[") || /^\d+\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The origin a pattern (its `*.` taken off) names; none when it has a path, a query or a
 * fragment: a caller narrowing to `https://api.example.com/v1` would get the whole origin.
 */
function patternOrigin(pattern: string): Origin | undefined {
  let parsed: URL;
  try {
    parsed = new URL(pattern);
  } catch {
    return undefined;
  }
  return parsed.pathname === "/" && parsed.search === "" && parsed.hash === "" ? originOf(parsed) : undefined;
}

function matches(pattern: string, url: Origin): boolean {
  const wildcard = pattern.includes(WILDCARD);
  const origin = patternOrigin(wildcard ? pattern.replace(WILDCARD, "://") : pattern);
  if (origin === undefined || origin.host.includes("*") || origin.scheme !== url.scheme || origin.port !== url.port) {
    return false;
  }
  if (!wildcard) return origin.host === url.host;
  // `*.` stands for exactly one label in front of a domain of two labels or more, never an address.
  const dot = url.host.indexOf(".");
  return dot > 0 && url.host.slice(dot + 1) === origin.host && origin.host.includes(".") && !isAddress(url.host);
}

/**
 * Whether a credential whose envelope names `apiOrigins` may be sent to `url`: it must match one
 * of them and, when the caller narrowed them (`narrowedTo`, possibly empty), one of those too, so
 * a narrowing never widens.
 */
export function originAllowed(url: string | URL, apiOrigins: readonly string[], narrowedTo?: readonly string[]): boolean {
  const origin = originOf(url);
  if (origin === undefined || !apiOrigins.some((pattern) => matches(pattern, origin))) return false;
  return narrowedTo === undefined || narrowedTo.some((pattern) => matches(pattern, origin));
}

/** Whether two URLs have one origin (a URL that has none has no origin in common with any). */
export function sameOrigin(a: string | URL, b: string | URL): boolean {
  const first = originOf(a);
  const second = originOf(b);
  return first !== undefined && second !== undefined && originText(first) === originText(second);
}
