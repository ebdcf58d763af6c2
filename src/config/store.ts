/** A store's URL with its credentials and CA, from the options named after it. */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { readBoundedFile, smallFileBytes } from '../bounded-file.js';
import type { Setting, Settings } from './sources.js';
import type { Labelled, Store, VictoriaMetrics } from './types.js';
import { parseCount, parseEndpoint } from './values.js';

/** Basic auth where the URL carries none, or a bearer token; and a CA: from PUSHGATEWAY_… or VICTORIAMETRICS_…. */
export function readStore(url: Setting, get: Settings, cwd: string, what: 'Pushgateway' | 'VictoriaMetrics'): Store {
  const prefix = what.toUpperCase();
  const endpoint = parseEndpoint(url, what);
  // A push URL copied from the Pushgateway's docs: the job adds /metrics/job/<job>/… itself, and
  // the Pushgateway would refuse the doubled path only at the push ("odd number of components").
  if (what === 'Pushgateway') {
    const words = (path: string, base: string) =>
      `${url.source} holds ${path}: give the Pushgateway's base URL, without /metrics/job/... ` +
      `(e.g. ${base}); set the job with --job`;
    refuseApiPath(endpoint.url, /\/metrics\/job(\/.*)?$/, words);
  }
  // Each read, so that a mistake in one shows even where the URL's user info wins over it.
  const [user, pass, token, caFile] = ['USERNAME', 'PASSWORD', 'BEARER_TOKEN', 'CA_FILE'].map((option) =>
    get(`${prefix}_${option}`),
  );
  // A line break in a header value would be refused by Node on every request: say so now.
  if (token && /[\0-\x1f\x7f]/.test(token.value))
    throw new ConfigError(`${token.source} holds a line break or another control character; a token is one line`);
  // Each part of the URL's user info wins over its option: http://user@host with the password in a file.
  const username = endpoint.username ?? user?.value;
  const password = endpoint.password ?? pass?.value;
  if (token && username !== undefined)
    throw new ConfigError(`${token.source} and basic auth (a user name) exclude each other; use one`);
  const caName = caFile && `${caFile.source} "${caFile.value}"`;
  const ca = caFile && readBoundedFile(resolve(cwd, caFile.value), caName!, smallFileBytes);
  // Node would take such a file without a word and trust nothing in it: every TLS request then fails
  // as an untrusted certificate, far from the file that is wrong.
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----'))
    throw new ConfigError(`${caName!} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return {
    url: endpoint.url,
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    ...(token && { bearerToken: token.value }),
    ...(ca !== undefined && { ca }),
  };
}

/** VictoriaMetrics, a vmagent or a vminsert: where it imports and answers queries, with which credentials. */
export function readVictoriaMetrics(url: Setting, get: Settings, cwd: string, labels: Labelled): VictoriaMetrics {
  const store = readStore(url, get, cwd, 'VictoriaMetrics');
  // The job adds /api/v1/import/prometheus and /api/v1/query itself.
  const requireBase = (setting: Setting, endpoint: URL) => {
    const words = (path: string, base: string) =>
      `${setting.source} ends in ${path}: give the base URL, without /api/v1/... (e.g. ${base})`;
    refuseApiPath(endpoint, /\/api\/v1(\/.*)?$/, words);
  };
  requireBase(url, store.url);
  const querySetting = get('victoriametrics-query-url');
  const queryEndpoint = querySetting ? parseEndpoint(querySetting, 'VictoriaMetrics query') : store;
  if (querySetting) requireBase(querySetting, queryEndpoint.url);
  // The query URL shares the store's credentials and CA, unless it carries user info of its own.
  const query: Store =
    queryEndpoint.username !== undefined && querySetting
      ? { ...queryEndpoint, ...(store.ca !== undefined && { ca: store.ca }) }
      : { ...store, url: queryEndpoint.url };
  return {
    ...store,
    ...labels,
    query,
    backlog: {
      maxBytes: parseCount(get('VICTORIAMETRICS_BACKLOG_MAX_BYTES'), 32 * 1_048_576, 0, 1_073_741_824),
      maxAgeMs: parseCount(get('VICTORIAMETRICS_BACKLOG_MAX_AGE_SECONDS'), 86_400, 0, 30 * 86_400) * 1000,
    },
  };
}

/** A URL that ends in the API path the job adds itself would double it. */
function refuseApiPath(url: URL, apiPath: RegExp, message: (path: string, base: string) => string): void {
  const found = apiPath.exec(url.pathname);
  if (found) throw new ConfigError(message(found[0], `${url.origin}${url.pathname.slice(0, found.index) || '/'}`));
}
