/**
 * The floor the loop benchmarks compare with: the same cycle as the job's (GET /jsonlive from a
 * stick, PUT a few gauges to the Pushgateway, over kept-alive connections) written with nothing
 * but node:http. What the job spends above it is the price of got, prom-client, the catalogue and
 * the checks.
 *
 *   node bench/floor.mjs --stick http://127.0.0.1:P --pushgateway http://127.0.0.1:Q --every-ms N
 *
 * Runs until SIGTERM; the next cycle starts N ms after the previous one ended.
 */
import { Agent } from 'node:http';
import { parseArgs } from 'node:util';
import { exchange } from './floor-http.mjs';

const { values } = parseArgs({
  options: {
    stick: { type: 'string' },
    pushgateway: { type: 'string' },
    'every-ms': { type: 'string', default: '1000' },
  },
});
const stick = new URL('/jsonlive', values.stick);
const push = new URL('/metrics/job/floor/instance/floor', values.pushgateway);
const everyMs = Number(values['every-ms']);
const agent = new Agent({ keepAlive: true });

let timer;
async function cycle() {
  const payload = JSON.parse(await exchange(agent, stick, 'GET'));
  let text = '';
  for (const [key, value] of Object.entries(payload)) {
    if (typeof value !== 'number') continue;
    const name = `floor_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`;
    text += `# TYPE ${name} gauge\n${name} ${value}\n`;
  }
  await exchange(agent, push, 'PUT', { body: text, headers: { 'content-type': 'text/plain; version=0.0.4' } });
}

function next() {
  cycle().then(
    () => {
      timer = setTimeout(next, everyMs);
    },
    (error) => {
      process.stderr.write(`floor: ${error.message}\n`);
      process.exit(1);
    },
  );
}

process.once('SIGTERM', () => {
  clearTimeout(timer);
  agent.destroy();
  process.exit(0);
});
timer = setTimeout(next, everyMs);
