/** The VictoriaMetrics settings into one checked VictoriaMetrics: where, with which credentials. */
import type { Setting, Settings } from './sources.js';
import { readStore } from './store.js';
import type { Labelled, Store, VictoriaMetrics } from './types.js';
import { parseCount, parseEndpoint } from './values.js';

export function parseVictoriaMetrics(url: Setting, get: Settings, cwd: string, labels: Labelled): VictoriaMetrics {
  const store = readStore(url, get, cwd, 'victoriametrics');
  const querySetting = get('victoriametricsQueryUrl');
  const queryEndpoint = querySetting ? parseEndpoint(querySetting, 'VictoriaMetrics query') : store;
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
