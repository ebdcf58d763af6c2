/**
 * The one request of the floors (floor.mjs, fleet-floor.mjs): `node:http` alone, the whole answer
 * as text, anything but 2xx an error.
 */
import { request } from 'node:http';

export function exchange(agent, url, method, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () =>
        res.statusCode >= 300
          ? reject(new Error(`${method} ${url.pathname}: HTTP ${res.statusCode}`))
          : resolve(Buffer.concat(chunks).toString('utf8')),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
