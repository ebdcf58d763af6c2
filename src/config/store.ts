/** A store's URL with its credentials and CA, from the options named after it. */
import { resolve } from 'node:path';
import { readText, type Setting, type Settings } from './sources.js';
import type { Store } from './types.js';
import { parseEndpoint, parseStore } from './values.js';

export function readStore(url: Setting, get: Settings, cwd: string, store: 'pushgateway' | 'victoriametrics'): Store {
  const what = store === 'pushgateway' ? 'Pushgateway' : 'VictoriaMetrics';
  return parseStore(parseEndpoint(url, what), {
    username: get(`${store}Username`),
    password: get(`${store}Password`),
    token: get(`${store}BearerToken`),
    caFile: get(`${store}CaFile`),
    ca: (file) => readText(resolve(cwd, file.value), `${file.source} "${file.value}"`),
  });
}
