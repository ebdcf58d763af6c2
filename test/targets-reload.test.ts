/**
 * --targets-file in loop mode, against a real Pushgateway: the loop re-reads the file when it
 * changes (added sticks start, removed ones stop and, with --delete-on-exit, lose their groups),
 * keeps the previous sticks when the new file is invalid or empty; a one-shot run refuses an
 * invalid file, and one that is not a regular file.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { emptyDir, quickTicks, runCli, startCli } from './helpers/cli.js';
import { startPushgateway, type RunningPushgateway } from './helpers/pushgateway.js';
import { until } from './helpers/until.js';

let pushgateway: RunningPushgateway;
let sticks: Simulator[];
let dir: string;
before(async () => {
  pushgateway = await startPushgateway();
  sticks = await Promise.all([0, 1, 2].map(() => startSimulator({ variant: 'T2SG' })));
  dir = await emptyDir();
});
after(async () => {
  await Promise.all([
    pushgateway.stop(),
    ...sticks.map((stick) => stick.close()),
    rm(dir, { recursive: true, force: true }),
  ]);
});

const entry = (index: number, instance: string) => ({
  targets: [sticks[index]!.url],
  labels: { instance, site: 'test' },
});
const liveReads = (stick: Simulator) => stick.requests.filter((line) => line === 'GET /jsonlive').length;

const hasGroup = async (instance: string) =>
  (await pushgateway.group({ job: 'trucki', instance, site: 'test' })) !== undefined;

test('the loop follows the file: added start, removed stop and lose their groups, invalid is kept out', async () => {
  const file = join(dir, 'sticks.json');
  await writeFile(file, JSON.stringify([entry(0, 'one'), entry(1, 'two')]));
  const loop = await startCli(
    ['--targets-file', 'sticks.json', '-g', pushgateway.url, '--schedule', '* * * * * *', '--delete-on-exit'],
    { cwd: dir, env: quickTicks },
  );
  try {
    await until(async () => (await hasGroup('one')) && (await hasGroup('two')), { what: 'groups one and two' });
    await writeFile(file, JSON.stringify([entry(1, 'two'), entry(2, 'three')]));
    await loop.waitFor(/sticks\.json changed: 2 sticks; added three; removed one$/m);
    await until(async () => (await hasGroup('three')) && !(await hasGroup('one')), {
      what: 'group three and no group one',
    });
    const readsOfOne = liveReads(sticks[0]!);

    await writeFile(file, JSON.stringify([{ targets: [sticks[0]!.url], labels: { job: 'other' } }]));
    await loop.waitFor(
      /sticks\.json: entry 1: label "job" is used by the job itself; .*; keeping the 2 sticks read before$/m,
    );
    const readsOfThree = liveReads(sticks[2]!);
    // Ten more runs of the loop: three is read on each, one on none.
    await until(() => liveReads(sticks[2]!) >= readsOfThree + 10, { what: 'ten more reads of three' });
    assert.equal(liveReads(sticks[0]!), readsOfOne, 'one is no longer read');
    assert.deepEqual(await loop.stop(), { code: 0, signal: null });
    assert.equal(await hasGroup('two'), false, '--delete-on-exit deleted the sticks of the file as it last was');
    assert.equal(await hasGroup('three'), false);
  } finally {
    await loop.stop();
  }
});

test('one-shot: an invalid file is exit 2 with one line naming the entry, and nothing is pushed', async () => {
  await writeFile(
    join(dir, 'bad.yml'),
    `- targets: ['${sticks[0]!.url}']\n  labels: {instance: fine}\n- targets: [a, b]\n  labels: {instance: x}\n`,
  );
  const result = await runCli(['--targets-file', 'bad.yml', '-g', pushgateway.url], { cwd: dir });
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /^trucki2pushgateway: --targets-file bad\.yml: entry 2: labels\.instance names one stick, but .*\n$/,
  );
  assert.equal(await pushgateway.group({ job: 'trucki', instance: 'fine' }), undefined);
});

test("an emptied targets file keeps a loop's sticks instead of removing them all", async () => {
  const cwd = await emptyDir();
  await writeFile(join(cwd, 'sticks.yml'), `- targets: ['${sticks[0]!.url}']\n  labels: {instance: w1}\n`);
  const loop = await startCli(['--targets-file', 'sticks.yml', '--stdout', '-s', '* * * * * *'], {
    cwd,
    env: quickTicks,
  });
  try {
    await loop.waitFor(/stick w1 .*read \d+ samples/);
    await writeFile(join(cwd, 'sticks.yml'), '');
    await loop.waitFor(/sticks\.yml: names no stick; keeping the 1 sticks read before/, 10_000);
    const reads = liveReads(sticks[0]!);
    await until(() => liveReads(sticks[0]!) >= reads + 10, {
      what: 'ten more reads: the loop stopped reading the stick',
    });
    assert.doesNotMatch(loop.stderr(), /removed w1/);
  } finally {
    await loop.stop();
    await rm(cwd, { recursive: true, force: true });
  }
});

test('a targets file that is not a regular file (a FIFO) is exit 2, not a hang', async () => {
  const cwd = await emptyDir();
  try {
    execFileSync('mkfifo', [join(cwd, 'sticks.json')]);
    const result = await runCli(['--targets-file', 'sticks.json', '--stdout'], { cwd, timeoutMs: 10_000 });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /sticks\.json is not a regular file/);
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});
