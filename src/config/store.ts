/** A store's URL with its credentials and CA, from the options named after it. */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { readText, type Setting, type Settings } from './sources.js';
import type { Store } from './types.js';
import { parseEndpoint, parseStore } from './values.js';

export function readStore(url: Setting, get: Settings, cwd: string, store: 'pushgateway' | 'victoriametrics'): Store {
  const what = store === 'pushgateway' ? 'Pushgateway' : 'VictoriaMetrics';
  const endpoint = parseEndpoint(url, what);
  // A push URL copied from the Pushgateway's docs: the job adds /metrics/job/<job>/… itself, and
  // the Pushgateway would refuse the doubled path only at the push ("odd number of components").
  const pushPath = store === 'pushgateway' ? /\/metrics\/job(\/.*)?$/.exec(endpoint.url.pathname) : null;
  if (pushPath) {
    throw new ConfigError(
      `${url.source} holds ${pushPath[0]}: give the Pushgateway's base URL, without /metrics/job/... ` +
        `(e.g. ${endpoint.url.origin}${endpoint.url.pathname.slice(0, pushPath.index) || '/'}); set the job with --job`,
    );
  }
  return parseStore(endpoint, {
    username: get(`${store}Username`),
    password: get(`${store}Password`),
    token: get(`${store}BearerToken`),
    caFile: get(`${store}CaFile`),
    ca: (file) => readText(resolve(cwd, file.value), `${file.source} "${file.value}"`),
  });
}
