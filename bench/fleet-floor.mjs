/**
 * The floor the fleet benchmark compares with (issue 18): the job's one-shot I/O at a fleet, with
 * nothing but node:http. It reads the same targets file, GETs /jsonlive of every stick (and
 * /jsononce with --once: a run whose identity cache is cold), at most --concurrency at once,
 * writes every number as an import line with the target's labels and the read time, and POSTs
 * the lines to VictoriaMetrics in requests of at most 1 MiB, each sent as soon as it is full, one
 * at a time. No retries, no checks, no catalogue: what the job spends above this is the price of
 * got, the catalogue, the checks and the run's bookkeeping.
 *
 * --got: the same, with each stick's GET made by got's promise API as the job makes it (bounded by
 * a downloadProgress cancel): the price of got alone, which no change of the job's own code can
 * take away. Loading got from node_modules (some 170 ms, where the job loads it bundled) is said on stderr as
 * `got-load-ms=<ms>`, for the benchmark to leave out.
 *
 *   node bench/fleet-floor.mjs --targets-file F --victoriametrics URL --concurrency N [--once] [--got]
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { parseArgs } from 'node:util';
import { exchange } from './floor-http.mjs';

const { values } = parseArgs({
  options: {
    'targets-file': { type: 'string' },
    victoriametrics: { type: 'string' },
    concurrency: { type: 'string', default: '256' },
    once: { type: 'boolean', default: false },
    got: { type: 'boolean', default: false },
  },
});
const targets = JSON.parse(readFileSync(values['targets-file'], 'utf8'));
const importUrl = new URL('/api/v1/import/prometheus', values.victoriametrics);
const agent = new Agent({ keepAlive: true });
const maxBytes = 1 << 20;

/** The stick GETs through got, as src/http.ts configures it for src/stick.ts. */
const gotGet = values.got
  ? await (async () => {
      const started = performance.now();
      const { default: got } = await import('got');
      process.stderr.write(`got-load-ms=${(performance.now() - started).toFixed(1)}\n`);
      const sticks = got.extend({
        agent: { http: agent },
        timeout: { request: 5000 },
        followRedirect: false,
        retry: { limit: 2, methods: ['GET'], statusCodes: [408, 429, 500, 502, 503, 504] },
      });
      return async (url) => {
        const sent = sticks(url, {
          headers: { accept: 'application/json' },
          decompress: false,
          responseType: 'buffer',
        });
        void sent.on('downloadProgress', ({ transferred }) => {
          if (transferred > 1 << 20) sent.cancel();
        });
        return (await sent).body.toString('utf8');
      };
    })()
  : undefined;

let batch = '';
let posting = Promise.resolve();
const post = (text) => {
  posting = posting.then(() => exchange(agent, importUrl, 'POST', { body: text }));
};

async function readStick({ targets: [url], labels }) {
  const paths = values.once ? ['/jsonlive', '/jsononce'] : ['/jsonlive'];
  const answers = await Promise.all(
    paths.map((path) =>
      gotGet
        ? gotGet(new URL(path, url))
        : exchange(agent, new URL(path, url), 'GET', { headers: { accept: 'application/json' } }),
    ),
  );
  const readAt = Date.now();
  const set = Object.entries({ job: 'trucki', ...labels })
    .map(([name, value]) => `${name}="${value}"`)
    .join(',');
  let text = '';
  for (const answer of answers)
    for (const [key, value] of Object.entries(JSON.parse(answer)))
      if (typeof value === 'number') text += `trucki_${key.toLowerCase()}{${set}} ${value} ${readAt}\n`;
  if (batch.length + text.length > maxBytes) {
    post(batch);
    batch = '';
  }
  batch += text;
}

let next = 0;
async function worker() {
  while (next < targets.length) await readStick(targets[next++]);
}
await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
if (batch) post(batch);
await posting;
agent.destroy();
