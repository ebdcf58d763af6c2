/** A store's credentials and CA, as the HTTP client takes them: basic auth or a bearer token, and TLS trust. */
import type { Store } from '../config/types.js';
import type { Credentials } from '../http.js';

export function storeAuth({ username, password, bearerToken, ca }: Store): Credentials {
  return {
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    ...(bearerToken !== undefined && { headers: { authorization: `Bearer ${bearerToken}` } }),
    ...(ca !== undefined && { https: { certificateAuthority: ca } }),
  };
}
