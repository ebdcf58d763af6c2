/**
 * What the production build ships, and whether its start-up tricks hold on this Node: nothing
 * compiled is shipped (no V8 code cache from the build machine), the second run finds V8's code of
 * the program made by the first (the launcher's code cache, src/launcher.ts) and V8 accepts it, and a one-shot run does not load what the build leaves out (node:http2,
 * through got's http2-wrapper). A failure here fails the benchmark run, in short mode too, so CI
 * notices a dependency or Node update that undoes a trick.
 * It also lists the Node built-ins a one-shot run loads (informative: each costs start-up time).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cleanEnv, figure, jobArgs, jobFile, runAlone, startPushgateway, startStick, timeNode } from './lib.mjs';

export async function main({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const dist = dirname(jobFile);
  const shipped = readdirSync(dist);
  const compiled = shipped.filter((name) => /codecache|\.blob$|\.cache$/.test(name));
  if (compiled.length)
    throw new Error(
      `${dist} ships compiled code (${compiled.join(', ')}): it must only be made on the machine that runs it`,
    );
  const rows = [
    figure('Size of dist/trucki2pushgateway.js (launcher)', statSync(jobFile).size / 1024, null, null, 'KiB', 1),
    figure(
      'Size of dist/program.js (the bundle)',
      statSync(join(dist, 'program.js')).size / 1024,
      null,
      null,
      'KiB',
      0,
    ),
  ];

  const stick = await startStick();
  const pushgateway = await startPushgateway();
  const dir = mkdtempSync(join(tmpdir(), 'trucki-bench-'));
  try {
    // Prints, at exit, the built-ins the process loaded.
    const probe = join(dir, 'probe.cjs');
    writeFileSync(
      probe,
      `process.on('exit', () => process.stderr.write('builtins: ' + process.moduleLoadList
      .filter((name) => name.startsWith('NativeModule ') && !name.includes('internal/')).map((name) => name.slice(13)).join(' ') + '\\n'));\n`,
    );
    // As under systemd's CacheDirectory=: a directory of its own that survives runs.
    mkdirSync(join(dir, 'cache'));
    const env = cleanEnv({
      CACHE_DIRECTORY: join(dir, 'cache'),
      NODE_DEBUG: 'trucki-code-cache',
    });
    const args = ['-r', probe, ...jobArgs('--target', stick.url, '--pushgateway', pushgateway.url)];
    const first = await timeNode(args, { env });
    if (first.code !== 0) throw new Error(`the one-shot run exited ${first.code}:\n${first.stderr}`);
    const run = await timeNode(args, { env });
    if (run.code !== 0) throw new Error(`the second one-shot run exited ${run.code}:\n${run.stderr}`);
    const cache = /code cache for \S*program\.js was (\w+)/.exec(run.stderr)?.[1];
    log(`build check: the launcher's code cache for program.js on the second run: ${cache ?? 'not used'}`);
    if (cache !== 'accepted')
      throw new Error(
        `the launcher's code cache for program.js was ${cache ?? 'not used'} on the second run: see src/launcher.ts`,
      );
    const loaded = /^builtins: (.*)$/m.exec(run.stderr)?.[1].split(' ') ?? [];
    log(`build check: built-ins loaded by a one-shot run: ${loaded.join(' ')}`);
    if (loaded.includes('http2'))
      throw new Error('a one-shot run loads node:http2 again: see the http2-wrapper stand-in in esbuild.config.mjs');
    const bare = await timeNode(['-r', probe, '-e', '0'], { env: cleanEnv() });
    const bareLoaded = /^builtins: (.*)$/m.exec(bare.stderr)?.[1].split(' ') ?? [];
    rows.push(
      figure(
        'Node built-in modules loaded by a one-shot run',
        loaded.length,
        { value: bareLoaded.length, what: '`node -e 0`' },
        null,
        '',
        0,
      ),
    );
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await stick.close();
    await pushgateway.stop();
  }
}
export const checkBuild = main;

await runAlone(import.meta, main);
