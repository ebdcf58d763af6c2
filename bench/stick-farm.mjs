/**
 * Many simulated sticks in one process of their own, so that serving them does not share an event
 * loop with the benchmark that times the job:
 *
 *   node bench/stick-farm.mjs --count 100 --delay-ms 300
 *
 * prints one line of JSON, the sticks' URLs, once all listen on 127.0.0.1, and serves until
 * SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startStick } from './lib.mjs';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '100' }, 'delay-ms': { type: 'string', default: '0' } },
});
const sticks = await Promise.all(
  Array.from({ length: Number(values.count) }, () => startStick({ delayMs: Number(values['delay-ms']) })),
);
process.stdout.write(`${JSON.stringify(sticks.map((stick) => stick.url))}\n`);
process.once('SIGTERM', async () => {
  await Promise.all(sticks.map((stick) => stick.close()));
  process.exit(0);
});
