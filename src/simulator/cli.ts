/** A stick for people without one at hand (`npm run simulator`, `npm run demo`), as `usage` says. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startSimulator } from './server.js';

const usage = `Usage: simulator [--variant T2SG|T2MG] [--port N] [--host H]
       simulator --demo [job options]

Serves a simulated Trucki stick (GET /jsonlive and /jsononce) until stopped. --demo starts a T2SG
and a T2MG, runs the real job against them once and exits with its status; job options after
--demo are passed on (e.g. --pushgateway http://localhost:9091).
`;

const options = {
  variant: { type: 'string', default: 'T2SG' },
  port: { type: 'string', default: '0' },
  host: { type: 'string', default: '127.0.0.1' },
  demo: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function usageError(message: string): never {
  process.stderr.write(`simulator: ${message}\n`);
  process.exit(2);
}

// Strict, but for --demo, whose unknown options are the job's.
const { values } = (() => {
  try {
    return parseArgs({ options, strict: !process.argv.includes('--demo') });
  } catch (error) {
    return usageError(`${error instanceof Error ? error.message.split(/\.\s/)[0] : String(error)}; see --help`);
  }
})();

if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}

if (values.demo) {
  const sg = await startSimulator({ variant: 'T2SG' });
  const mg = await startSimulator({ variant: 'T2MG' });
  const job = fileURLToPath(new URL('./trucki2pushgateway.js', import.meta.url));
  const extra = process.argv.slice(2).filter((arg) => arg !== '--demo');
  const targets = `demo-t2sg=${sg.url},demo-t2mg=${mg.url}`;
  const args = ['--', job, '--target', targets, ...(process.env.PUSHGATEWAY_URL ? [] : ['--stdout']), ...extra];
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  const [status] = (await once(child, 'exit')) as [number | null];
  await Promise.all([sg.close(), mg.close()]);
  process.exitCode = status ?? 1;
} else {
  const variant = String(values.variant).toUpperCase();
  if (variant !== 'T2SG' && variant !== 'T2MG') usageError('--variant must be T2SG or T2MG');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usageError('--port must be a whole number from 0 to 65535');
  const simulator = await startSimulator({ variant }, port, String(values.host));
  process.stderr.write(`simulated ${variant} stick serving ${simulator.url}/jsonlive and /jsononce; Ctrl-C to stop\n`);
  const stop = () => void simulator.close().then(() => process.exit(0));
  process.once('SIGINT', stop).once('SIGTERM', stop);
}
