/** Reading one JSON document from a stick: GET only, bounded in size, strictly UTF-8. */
import type { Endpoint } from './config/types.js';
import { HttpFailure } from './errors.js';
import { basicAuth, requireSuccess, urlUnder, withinBytes, withRetries, type Http } from './http.js';

export type StickPath = '/jsonlive' | '/jsononce';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body of `path` on the stick, as text. Throws a got error or an HttpFailure. */
export async function fetchStick(http: Http, stick: Endpoint, path: StickPath, maxBytes: number): Promise<string> {
  const response = await withRetries(http, (got) =>
    // An endless or huge body is cut off as it streams in, not after it has filled memory.
    withinBytes(
      got.get(urlUnder(stick.url, path), {
        responseType: 'buffer',
        headers: { accept: 'application/json' },
        ...basicAuth(stick),
      }),
      maxBytes,
      () => new HttpFailure(`sent more than ${formatBytes(maxBytes)} on ${path}`),
    ),
  );
  requireSuccess(response);
  if (response.statusCode !== 200)
    throw new HttpFailure(`answered HTTP ${response.statusCode} instead of 200 on ${path}`);
  try {
    return utf8.decode(response.body);
  } catch {
    throw new HttpFailure(`sent a body that is not valid UTF-8 on ${path}`);
  }
}

function formatBytes(bytes: number): string {
  return bytes % 1048576 === 0
    ? `${bytes / 1048576} MiB`
    : bytes % 1024 === 0
      ? `${bytes / 1024} KiB`
      : `${bytes} bytes`;
}
