/**
 * The one HTTP client policy the job uses towards sticks and the Pushgateway: bounded time per
 * attempt, a few retries with short backoff for errors that can pass, no redirects (a redirect
 * would send us to a URL we never chose), and errors put in words a user can act on.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import got, { HTTPError, RequestError, type Got, type ExtendOptions } from 'got';

export interface HttpPolicy {
  readonly timeoutMs: number;
  readonly retries: number;
}

/** A failure already put in words that are safe to log: no URL, no credentials. */
export class HttpFailure extends Error {
  override readonly name = 'HttpFailure';
}

/** Keep-alive connections that the job itself closes: a loop reuses them from run to run. */
export interface Agents {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
}

export function createAgents(): Agents {
  return { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
}

export function destroyAgents(agents: Agents): void {
  agents.http.destroy();
  agents.https.destroy();
}

export function createClient(policy: HttpPolicy, agents: Agents, extra: ExtendOptions = {}): Got {
  return got.extend({
    agent: agents,
    timeout: { request: policy.timeoutMs },
    followRedirect: false,
    retry: {
      limit: policy.retries,
      methods: ['GET', 'PUT', 'DELETE'],
      statusCodes: [408, 429, 500, 502, 503, 504],
      // ENOTFOUND is left out: a name that does not resolve rarely resolves a moment later.
      errorCodes: ['ETIMEDOUT', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENETUNREACH', 'EAI_AGAIN'],
      // Short and capped, so that a run ends within about timeout × attempts.
      calculateDelay: ({ attemptCount, computedValue }) => (computedValue > 0 ? Math.min(250 * 2 ** (attemptCount - 1), 1000) : 0),
    },
    ...extra,
  });
}

/** `path` below the base URL's own path, so that a base with a path prefix keeps it. */
export function urlUnder(base: URL, path: string): URL {
  return new URL(base.pathname.replace(/\/$/, '') + path, base);
}

/** What went wrong, as a predicate: "timed out after 5 s (3 attempts)". */
export function describeFailure(error: unknown, policy: HttpPolicy): string {
  if (error instanceof HttpFailure) return error.message;
  if (!(error instanceof RequestError)) return 'failed unexpectedly';
  const attempts = (error.request?.retryCount ?? 0) + 1;
  const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
  if (error instanceof HTTPError) {
    const { statusCode, statusMessage } = error.response;
    return `answered HTTP ${statusCode}${statusMessage ? ` ${statusMessage}` : ''}${tries}`;
  }
  switch (error.code) {
    case 'ETIMEDOUT': return `timed out after ${policy.timeoutMs / 1000} s${tries}`;
    case 'ECONNREFUSED': return `refused the connection${tries}`;
    case 'ECONNRESET': return `closed the connection unexpectedly${tries}`;
    case 'EPIPE': return `closed the connection unexpectedly${tries}`;
    case 'ENOTFOUND': return 'has a host name that does not resolve';
    case 'EAI_AGAIN': return `has a host name that could not be resolved now${tries}`;
    case 'ENETUNREACH': case 'EHOSTUNREACH': return `is not reachable on the network${tries}`;
    case 'ERR_CANCELED': return 'was cancelled';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT': case 'SELF_SIGNED_CERT_IN_CHAIN': case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY': case 'CERT_HAS_EXPIRED': case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `has a TLS certificate that cannot be trusted (${error.code})`;
    default: return `failed: ${error.code}${tries}`;
  }
}
