/**
 * The one HTTP client policy the job uses towards sticks and the Pushgateway: bounded time per
 * attempt, a few retries with short backoff for errors that can pass, no redirects (a redirect
 * would send us to a URL we never chose), and errors put in words a user can act on.
 */
import { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import got, {
  HTTPError,
  type CancelableRequest,
  type ExtendOptions,
  type Got,
  type PlainResponse,
  type Request,
} from 'got';
import { errnoCode, HttpFailure } from './errors.js';

export interface HttpPolicy {
  readonly timeoutMs: number;
  readonly retries: number;
}

/** Keep-alive connections that the job itself closes: a loop reuses them from run to run. */
export interface Agents {
  readonly http: HttpAgent;
  readonly https?: HttpsAgent;
}

export async function createAgents(withHttps: boolean): Promise<Agents> {
  const http = new HttpAgent({ keepAlive: true });
  // node:https brings TLS and crypto, about 10 ms of every start: only load it for an https URL.
  if (!withHttps) return { http };
  const { Agent } = await import('node:https');
  return { http, https: new Agent({ keepAlive: true }) };
}

export function destroyAgents(agents: Agents): void {
  agents.http.destroy();
  agents.https?.destroy();
}

/** A got instance with the job's settings, and the policy its requests are retried by. */
export interface Http {
  readonly got: Got;
  readonly policy: HttpPolicy;
}

export function createHttp(policy: HttpPolicy, agents: Agents, extra: ExtendOptions = {}): Http {
  return {
    policy,
    got: got.extend({
      agent: agents,
      timeout: { request: policy.timeoutMs },
      followRedirect: false,
      // Retries are ours (see withRetries): got 14's own stop after one attempt on Node >= 24.20, where a
      // refused connection surfaces as an unwrapped ERR_SOCKET_CLOSED_BEFORE_CONNECTION.
      retry: { limit: 0 },
      ...extra,
    }),
  };
}

const retryableStatus = new Set([408, 429, 500, 502, 503, 504]);
// ENOTFOUND is left out: a name that does not resolve rarely resolves a moment later.
const retryableCodes = new Set([
  'ETIMEDOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

function worthRetrying(error: unknown): boolean {
  if (error instanceof HTTPError) return retryableStatus.has(error.response.statusCode);
  // Not only got's RequestError: a streamed read on newer Node may end in the socket's own error.
  const code = errnoCode(error);
  return code !== undefined && retryableCodes.has(code);
}

/** The last failure of a request that was tried more than once. */
class Exhausted extends Error {
  constructor(
    readonly last: unknown,
    readonly attempts: number,
  ) {
    super('retries exhausted');
  }
}

/**
 * One request, made by `attempt` up to 1 + retries times while it fails in a way that may pass,
 * with a short capped backoff, so that it ends within about timeout × attempts. A Retry-After is
 * honoured up to the timeout: a longer one is the caller's to keep (see retryAfterMs).
 */
export async function withRetries<T>(http: Http, attempt: (got: Got) => Promise<T>): Promise<T> {
  for (let attempts = 1; ; attempts++) {
    let wait = Math.min(250 * 2 ** (attempts - 1), 1000);
    try {
      return await attempt(http.got);
    } catch (error) {
      if (!worthRetrying(error) || attempts > http.policy.retries)
        throw attempts > 1 ? new Exhausted(error, attempts) : error;
      const asked = retryAfterMs(error, Date.now());
      if (asked !== undefined) wait = Math.min(asked, http.policy.timeoutMs);
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** A Retry-After beyond this is read as this: a store cannot silence a loop for days. */
export const maxRetryAfterMs = 3_600_000;

/**
 * How long the failed request's answer (its last attempt's) asked to wait, in ms, from its
 * Retry-After (seconds or an HTTP date; at most maxRetryAfterMs); undefined where it asked nothing
 * readable: a negative, fractional or unparsable value is no answer.
 */
export function retryAfterMs(error: unknown, now: number): number | undefined {
  const last = error instanceof Exhausted ? error.last : error;
  if (!(last instanceof HTTPError)) return undefined;
  const header = last.response.headers['retry-after']?.trim();
  if (!header) return undefined;
  const ms = /^\d+$/.test(header) ? Number(header) * 1000 : Date.parse(header) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), maxRetryAfterMs);
}

/** The HTTP status of a failed request's answer (its last attempt's), if it got one. */
export function failedStatus(error: unknown): number | undefined {
  const last = error instanceof Exhausted ? error.last : error;
  return last instanceof HTTPError ? last.response.statusCode : undefined;
}

/**
 * got returns a 3xx as an answer when redirects are not followed: anything but 2xx is a failure
 * here, and a redirect says where it pointed (host and path only) so that the user can fix the URL.
 */
export function requireSuccess<T extends PlainResponse>(response: T): T {
  const { statusCode, statusMessage, headers, url } = response;
  if (statusCode >= 200 && statusCode < 300) return response;
  const reason = `answered HTTP ${statusCode}${statusMessage ? ` ${statusMessage}` : ''}`;
  const location = headers.location;
  if (statusCode >= 300 && statusCode < 400 && location) {
    let where = 'elsewhere';
    try {
      const to = new URL(location, url);
      where = `${to.host}${to.pathname}`;
    } catch {
      // An unreadable Location names nothing worth showing.
    }
    throw new HttpFailure(`${reason}, redirecting to ${where}; redirects are not followed: use that URL`);
  }
  throw new HttpFailure(reason);
}

/**
 * `request`, cancelled once its body passes `maxBytes` as it streams in, so that a huge or endless
 * answer costs no more memory than that; it then rejects with `tooLarge()`.
 */
export function withinBytes<T>(request: CancelableRequest<T>, maxBytes: number, tooLarge: () => Error): Promise<T> {
  let over = false;
  void request.on('downloadProgress', ({ transferred, total }) => {
    if (transferred > maxBytes || (total ?? 0) > maxBytes) {
      over = true;
      request.cancel();
    }
  });
  return request.catch((error: unknown) => {
    throw over ? tooLarge() : error;
  });
}

/**
 * A streamed request's answer and its whole body, destroyed once the body passes `maxBytes` (then
 * rejecting with `tooLarge()`). Cheaper than got's promise API at a fleet: no response object
 * copied, no progress events.
 */
export function streamedBody(
  stream: Request,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<{ response: PlainResponse; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= maxBytes) chunks.push(chunk);
      else {
        stream.destroy();
        reject(tooLarge());
      }
    });
    stream.once('end', () => {
      // 'end' comes after 'response': the answer is known by then.
      resolve({ response: stream.response!, body: Buffer.concat(chunks, bytes) });
    });
    stream.once('error', reject);
  });
}

/** Basic auth for got from an endpoint's user info, if it had any. */
export function basicAuth({ username, password }: { username?: string; password?: string }): {
  username?: string;
  password?: string;
} {
  return { ...(username !== undefined && { username }), ...(password !== undefined && { password }) };
}

/** A store's 4xx in its own words: the first line of its answer, at most 300 characters; or its status's. */
export function refusalReason(error: HTTPError): string {
  const said = String(error.response.body).trim().split('\n')[0]!.slice(0, 300);
  return said || error.response.statusMessage || 'no reason given';
}

/** `path` below the base URL's own path, so that a base with a path prefix keeps it. */
export function urlUnder(base: URL, path: string): URL {
  return new URL(base.pathname.replace(/\/$/, '') + path, base);
}

/** What went wrong, as a predicate: "timed out after 5 s (3 attempts)". */
export function describeFailure(error: unknown, policy: HttpPolicy): string {
  if (error instanceof Exhausted) return `${describeFailure(error.last, policy)} (${error.attempts} attempts)`;
  if (error instanceof HttpFailure) return error.message;
  if (error instanceof HTTPError) {
    const { statusCode, statusMessage } = error.response;
    return `answered HTTP ${statusCode}${statusMessage ? ` ${statusMessage}` : ''}`;
  }
  // Not only got's RequestError: a streamed read on newer Node may end in the socket's own error.
  const code = errnoCode(error);
  return code !== undefined ? describeCode(code, policy) : 'failed unexpectedly';
}

function describeCode(code: string, policy: HttpPolicy): string {
  switch (code) {
    case 'ETIMEDOUT':
      return `timed out after ${policy.timeoutMs / 1000} s`;
    case 'ECONNREFUSED':
      return 'refused the connection';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'closed the connection unexpectedly';
    case 'ENOTFOUND':
      return 'has a host name that does not resolve';
    case 'EAI_AGAIN':
      return 'has a host name that could not be resolved now';
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return 'is not reachable on the network';
    case 'ERR_CANCELED':
      return 'was cancelled';
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return 'did not answer in TLS: is it http, not https?';
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_HEADER_TOKEN':
      return 'did not answer in HTTP: is it https, not http?';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `has a TLS certificate that cannot be trusted (${code})`;
    case 'EMFILE':
      return 'could not be reached: the job ran out of file descriptors (EMFILE; lower --concurrency)';
    default:
      return `ended in error ${code}`;
  }
}
