/** The VictoriaMetrics settings into one checked VictoriaMetrics: where, with which credentials. */
import { ConfigError } from '../errors.js';
import type { Setting, Settings } from './sources.js';
import { readStore } from './store.js';
import type { Labelled, Store, VictoriaMetrics } from './types.js';
import { parseCount, parseEndpoint } from './values.js';

export function parseVictoriaMetrics(url: Setting, get: Settings, cwd: string, labels: Labelled): VictoriaMetrics {
  const store = readStore(url, get, cwd, 'victoriametrics');
  requireBase(url, store.url);
  const querySetting = get('victoriametricsQueryUrl');
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
      maxBytes: parseCount(get('backlogBytes'), 32 * 1_048_576, 0, 1_073_741_824),
      maxAgeMs: parseCount(get('backlogAge'), 86_400, 0, 30 * 86_400) * 1000,
    },
  };
}

/** The job adds /api/v1/import/prometheus and /api/v1/query itself: a URL that has them would double them. */
function requireBase(setting: Setting, url: URL): void {
  const api = /\/api\/v1(\/.*)?$/.exec(url.pathname);
  if (api)
    throw new ConfigError(
      `${setting.source} ends in ${api[0]}: give the base URL, without /api/v1/... ` +
        `(e.g. ${url.protocol}//${url.host}${url.pathname.slice(0, api.index) || '/'})`,
    );
}
