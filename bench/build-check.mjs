/**
 * What the production build ships, and whether its start-up tricks hold on this Node: the V8 code
 * cache must be accepted, and a one-shot run must not load what the build leaves out (node:http2,
 * through got's http2-wrapper). A failure here fails the benchmark run, in short mode too, so CI
 * notices a dependency or Node update that undoes a trick. It also lists the Node built-ins a
 * one-shot run loads (informative: each costs start-up time).
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cleanEnv, figure, jobArgs, jobFile, runAlone, startPushgateway, startStick, timeNode } from './lib.mjs';

export async function main({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const cacheFile = join(dirname(jobFile), 'trucki2pushgateway.codecache');
  const rows = [figure('Size of dist/trucki2pushgateway.js (launcher + program)', statSync(jobFile).size / 1024, null, null, 'KiB', 0)];
  if (existsSync(cacheFile)) rows.push(figure('Size of dist/trucki2pushgateway.codecache', statSync(cacheFile).size / 1024, null, null, 'KiB', 0));

  const stick = await startStick();
  const pushgateway = await startPushgateway();
  const dir = mkdtempSync(join(tmpdir(), 'trucki-bench-'));
  try {
    // Prints, at exit, the built-ins the process loaded.
    const probe = join(dir, 'probe.cjs');
    writeFileSync(probe, `process.on('exit', () => process.stderr.write('builtins: ' + process.moduleLoadList
      .filter((name) => name.startsWith('NativeModule ') && !name.includes('internal/')).map((name) => name.slice(13)).join(' ') + '\\n'));\n`);
    const run = await timeNode(['-r', probe, ...jobArgs('--target', stick.url, '--pushgateway', pushgateway.url)], { env: cleanEnv({ TRUCKI_CODE_CACHE_REPORT: '1' }) });
    if (run.code !== 0) throw new Error(`the one-shot run exited ${run.code}:\n${run.stderr}`);
    const cache = /code cache (.*)/.exec(run.stderr)?.[1] ?? 'not reported (a launcher without a code cache?)';
    const loaded = /^builtins: (.*)$/m.exec(run.stderr)?.[1].split(' ') ?? [];
    log(`build check: code cache ${cache}`);
    log(`build check: built-ins loaded by a one-shot run: ${loaded.join(' ')}`);
    if (cache !== 'accepted') throw new Error(`the V8 code cache is ${cache}: rebuild with this Node (npm run build); see README, Performance`);
    if (loaded.includes('http2')) throw new Error('a one-shot run loads node:http2 again: see the http2-wrapper stand-in in esbuild.config.mjs');
    const bare = await timeNode(['-r', probe, '-e', '0'], { env: cleanEnv() });
    const bareLoaded = /^builtins: (.*)$/m.exec(bare.stderr)?.[1].split(' ') ?? [];
    rows.push(figure('Node built-in modules loaded by a one-shot run', loaded.length, { value: bareLoaded.length, what: '`node -e 0`' }, null, '', 0));
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await stick.close();
    await pushgateway.stop();
  }
}
export const checkBuild = main;

await runAlone(import.meta, main);
