/**
 * The one HTTP client of the job and of `check`, the only module that imports got. Every request is
 * bounded in time (per attempt) and in bytes (counted as they come, decoded unless Ask.decompress);
 * got retries what may pass; no redirect is followed (to a URL we never chose); every failure is an
 * HttpFailure of errors.ts, its kind told by its class, in words a user can act on.
 */
import { Agent as HttpAgent, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import got, { HTTPError, RequestError, type Got, type PlainResponse, type Request } from 'got';
import type { Store } from './config/types.js';
import { AnswerTooLarge, errnoCode, HttpFailure, HttpStatus, NoAnswer } from './errors.js';

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

export interface Http {
  readonly got: Got;
  readonly policy: HttpPolicy;
}

const retriedStatuses = [408, 429, 500, 502, 503, 504];

/** `store`: its credentials (basic auth or a bearer token) and CA go with each of its requests. */
export function createHttp(policy: HttpPolicy, agents: Agents, store: Partial<Store> = {}): Http {
  const { username, password, bearerToken, ca } = store;
  return {
    policy,
    got: got.extend({
      agent: agents,
      timeout: { request: policy.timeoutMs },
      followRedirect: false,
      retry: {
        limit: policy.retries,
        // Each of ours may be repeated: a push replaces its group, an import's samples carry their times.
        methods: ['GET', 'PUT', 'POST', 'DELETE'],
        statusCodes: retriedStatuses,
        // Not ENOTFOUND: a name that does not resolve rarely resolves a moment later.
        errorCodes: ['ETIMEDOUT', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENETUNREACH', 'EHOSTUNREACH', 'EAI_AGAIN'],
        enforceRetryRules: true,
        // got would give up at a Retry-After beyond the timeout; ours waits the timeout, and the caller
        // keeps the longer wait (HttpStatus.retryAfterMs). Otherwise short and capped: a request ends
        // within about timeout × attempts.
        maxRetryAfter: Number.POSITIVE_INFINITY,
        calculateDelay: ({ attemptCount, error }) => {
          // An answer that cannot be decoded would come again: only its status may pass.
          if (undecodable(error) && !retriedStatuses.includes(error.response!.statusCode)) return 0;
          const asked = retryAfterMs(error.response?.headers);
          return Math.max(
            1,
            asked === undefined ? Math.min(250 * 2 ** (attemptCount - 1), 1000) : Math.min(asked, policy.timeoutMs),
          );
        },
      },
      ...(username !== undefined && { username }),
      ...(password !== undefined && { password }),
      ...(bearerToken !== undefined && { headers: { authorization: `Bearer ${bearerToken}` } }),
      ...(ca !== undefined && { https: { certificateAuthority: ca } }),
    }),
  };
}

interface Ask {
  readonly url: URL;
  readonly method?: 'GET' | 'PUT' | 'POST' | 'DELETE';
  readonly body?: { readonly text: string; readonly type: string };
  readonly form?: Record<string, string>;
  readonly accept?: string;
  /** A larger answer is cut off as it comes: an AnswerTooLarge. */
  readonly maxBytes: number;
  /** What the answer is to, for a failure's words: "on /jsonlive", "answering the push". */
  readonly what: string;
  /** Retries at most this many times; the policy's number by default. */
  readonly retries?: number;
  /** This request's basic auth (a stick's); a store's come with its Http. */
  readonly auth?: { readonly username?: string; readonly password?: string };
  /** false: no encoding is asked for, and one sent anyway is left as it came, and counted so (see stick.ts). */
  readonly decompress?: false;
  /**
   * Given, the body is not kept but handed as text while it streams in to what this returns for the
   * answer's headers (per attempt; it may throw to refuse the answer). Retried on network failures
   * only: an error status fails at once, its body unread.
   */
  readonly stream?: (headers: IncomingHttpHeaders) => (text: string) => void;
}

/** A 2xx answer; a streamed one's body is empty. */
interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** The answer of a 2xx, or an HttpFailure of its kind. */
export async function request(http: Http, ask: Ask): Promise<Answer> {
  const { method = 'GET', body, form, accept, auth, retries, decompress } = ask;
  const options = {
    method,
    ...(body && { body: body.text }),
    ...(form && { form }),
    headers: { ...(body && { 'content-type': body.type }), ...(accept && { accept }) },
    ...(auth?.username !== undefined && { username: auth.username }),
    ...(auth?.password !== undefined && { password: auth.password }),
    ...(retries !== undefined && { retry: { limit: retries } }),
    ...(decompress === false && { decompress }),
  };
  if (ask.stream) return streamed(http, ask, http.got.stream(ask.url, { ...options, throwHttpErrors: false }));
  const sent = http.got(ask.url, { ...options, responseType: 'buffer' });
  // got's way to bound a download: cancel once it passes the limit (or says it will).
  void sent.on('request', quietEnd).on('downloadProgress', ({ transferred, total = 0 }) => {
    if (transferred > ask.maxBytes || total > ask.maxBytes) sent.cancel();
  });
  try {
    const response = await sent;
    // 3xx: an answer to got, as redirects are not followed.
    if (response.statusCode >= 300) throw statusFailure(response, response.retryCount + 1);
    return { status: response.statusCode, headers: response.headers, body: response.body };
  } catch (error) {
    throw sent.isCanceled ? answerTooLarge(ask, attemptsOf(error)) : failureOf(error, http.policy, ask);
  }
}

/** A streamed request, its bytes counted as they come; each retry got makes is read afresh. */
function streamed(http: Http, ask: Ask, first: Request): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const attempt = (stream: Request) => {
      let bytes = 0;
      let take: ((text: string) => void) | undefined;
      const guarded = (step: () => void) => {
        try {
          step();
        } catch (error) {
          stream.destroy();
          reject(failureOf(error, http.policy, ask));
        }
      };
      stream.on('request', quietEnd);
      stream.once('retry', (_count: number, _error: unknown, again: () => Request) => {
        attempt(again());
      });
      stream.once('response', (response: PlainResponse) => {
        guarded(() => {
          if (response.statusCode >= 300) throw statusFailure(response, stream.retryCount + 1);
          take = ask.stream!(response.headers);
        });
      });
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        guarded(() => {
          bytes += Buffer.byteLength(text);
          if (bytes > ask.maxBytes) throw answerTooLarge(ask, stream.retryCount + 1);
          take?.(text);
        });
      });
      stream.once('end', () => {
        resolve({ status: stream.response!.statusCode, headers: stream.response!.headers, body: Buffer.alloc(0) });
      });
      stream.once('error', (error) => {
        reject(failureOf(error, http.policy, ask));
      });
    };
    attempt(first);
  });
}

/** Node 24 calls a refused request's end callback with ERR_SOCKET_CLOSED_BEFORE_CONNECTION, which got 14 takes
 * for a second, final failure while it waits to retry: the request is destroyed by then, so tell it none.
 */
function quietEnd(request: ClientRequest): void {
  const { end } = request as unknown as { end: (...args: unknown[]) => unknown };
  (request as unknown as { end: typeof end }).end = (...args: unknown[]) => {
    const done = args.at(-1);
    if (typeof done === 'function') {
      args[args.length - 1] = (error?: Error) => {
        (done as (error?: Error) => void)(request.destroyed ? undefined : error);
      };
    }
    return end.apply(request, args);
  };
}

const attemptsOf = (error: unknown) => (error instanceof RequestError ? (error.request?.retryCount ?? 0) + 1 : 1);

export function answerTooLarge({ maxBytes, what }: Pick<Ask, 'maxBytes' | 'what'>, attempts = 1): AnswerTooLarge {
  const size = maxBytes % 1048576 === 0 ? `${maxBytes / 1048576} MiB` : `${maxBytes / 1024} KiB`;
  return new AnswerTooLarge(`sent more than ${maxBytes % 1024 === 0 ? size : `${maxBytes} bytes`} ${what}`, attempts);
}

function failureOf(error: unknown, policy: HttpPolicy, { what }: Ask): HttpFailure {
  if (error instanceof HttpFailure) return error;
  if (error instanceof HTTPError) return statusFailure(error.response, attemptsOf(error));
  const undecoded = undecodable(error);
  // An error status says more than its body.
  if (undecoded && undecoded.statusCode >= 300) return statusFailure(undecoded, attemptsOf(error));
  if (undecoded) return new NoAnswer(`sent a compressed body that cannot be decoded ${what}`, attemptsOf(error));
  // Not only got's RequestError: a streamed read may end in the socket's own error.
  const code = errnoCode(error);
  return new NoAnswer(code !== undefined ? describeCode(code, policy) : 'failed unexpectedly', attemptsOf(error));
}

/** The answer got could not decode (zlib's or brotli's code), whose failure may show as a closed connection. */
function undecodable(error: unknown): PlainResponse | undefined {
  const response = error instanceof RequestError ? error.response : undefined;
  return /^(Z_|ERR__ERROR_)/.test(errnoCode(response?.errored) ?? '') ? response : undefined;
}

/** A redirect says where it pointed (host and path only), so that the user can fix the URL. */
function statusFailure({ statusCode, statusMessage = '', headers, url, body }: PlainResponse, attempts: number) {
  let words = `answered HTTP ${statusCode}${statusMessage ? ` ${statusMessage}` : ''}`;
  if (statusCode < 400 && headers.location) {
    let where = 'elsewhere';
    try {
      const to = new URL(headers.location, url);
      where = `${to.host}${to.pathname}`;
    } catch {
      // An unreadable Location names nothing worth showing.
    }
    words += `, redirecting to ${where}; redirects are not followed: use that URL`;
  }
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : '';
  const reason = text.trim().split('\n')[0]!.slice(0, 300) || statusMessage || 'no reason given';
  return new HttpStatus(words, attempts, statusCode, reason, text, retryAfterMs(headers));
}

/** A Retry-After's wait (ms), in whole seconds or an HTTP date (it begins with the day's name: Date.parse alone
 * reads "-5" as a date long past), at most an hour (a store cannot silence a loop for days).
 */
function retryAfterMs(headers: IncomingHttpHeaders | undefined): number | undefined {
  const header = headers?.['retry-after']?.trim() ?? '';
  const seconds = /^\d+$/.test(header) ? Number(header) : NaN;
  const ms = /^[A-Za-z]{3}/.test(header) ? Date.parse(header) - Date.now() : seconds * 1000;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 3_600_000) : undefined;
}

/** `path` below the base URL's own path, so that a base with a path prefix keeps it. */
export function urlUnder(base: URL, path: string): URL {
  return new URL(base.pathname.replace(/\/$/, '') + path, base);
}

const codeWords: Record<string, string> = {
  ECONNREFUSED: 'refused the connection',
  ECONNRESET: 'closed the connection unexpectedly',
  EPIPE: 'closed the connection unexpectedly',
  ENOTFOUND: 'has a host name that does not resolve',
  EAI_AGAIN: 'has a host name that could not be resolved now',
  ENETUNREACH: 'is not reachable on the network',
  EHOSTUNREACH: 'is not reachable on the network',
  ERR_CANCELED: 'was cancelled',
  EPROTO: 'did not answer in TLS: is it http, not https?',
  ERR_SSL_WRONG_VERSION_NUMBER: 'did not answer in TLS: is it http, not https?',
  HPE_INVALID_CONSTANT: 'did not answer in HTTP: is it https, not http?',
  HPE_INVALID_HEADER_TOKEN: 'did not answer in HTTP: is it https, not http?',
  EMFILE: 'could not be reached: the job ran out of file descriptors (EMFILE; lower --concurrency)',
};
// prettier-ignore
const untrusted = ['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID'];

function describeCode(code: string, policy: HttpPolicy): string {
  if (code === 'ETIMEDOUT') return `timed out after ${policy.timeoutMs / 1000} s`;
  if (untrusted.includes(code)) return `has a TLS certificate that cannot be trusted (${code})`;
  return codeWords[code] ?? `ended in error ${code}`;
}
