// Stand-in until main's restructure lands: to be replaced by src/config/values.ts' own address parsing.
import type { Endpoint } from '../../src/config/types.js';
export function parseStickAddress(address: string): Endpoint {
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('must be an http or https URL');
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  return { url, ...(username && { username }), ...(password && { password }) };
}
