/** got options for a store's credentials and CA: basic auth or a bearer token, and TLS trust. */
import type { ExtendOptions } from 'got';
import type { Store } from '../config/types.js';
import { basicAuth } from '../http.js';

export function storeAuth(store: Store): ExtendOptions {
  return {
    ...basicAuth(store),
    ...(store.bearerToken !== undefined && { headers: { authorization: `Bearer ${store.bearerToken}` } }),
    ...(store.ca !== undefined && { https: { certificateAuthority: store.ca } }),
  };
}
