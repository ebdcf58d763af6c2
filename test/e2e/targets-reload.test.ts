/**
 * --targets-file in loop mode, against a real Pushgateway: the loop re-reads the file when it
 * changes (added sticks, once named for 5 s, start; removed ones, once left out for 5 s, stop and,
 * with --delete-on-exit, lose their groups),
 * keeps the previous sticks when the new file is invalid or empty; a one-shot run refuses an
 * invalid file, and one that is not a regular file.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, rm, symlink, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { watchTargetsFile } from '../../src/targets/watch.js';
import { emptyDir, quickTicks, runCli, startCli } from '../helpers/cli.js';
import { startHostileStick } from '../helpers/hostile.js';
import { sampleValue, startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';
import { until } from '../helpers/until.js';

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

const readText = (path: string) => readFile(path, 'utf8').catch(() => '');
const count = (pattern: RegExp, text: string) => (text.match(new RegExp(pattern.source, 'gm')) ?? []).length;

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
    await loop.waitFor(
      /sticks\.json changed: 2 sticks; added three \(started at the first run 5 s from now if still named\); left out: one \(removed at the first run 5 s from now if still left out\)$/m,
    );
    await loop.waitFor(/sticks\.json: removed one, left out for 5 s or more$/m);
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

describe('a stick removed from the file', { concurrency: true }, () => {
  test('a textfile loop no longer writes it: gone from the write after the change', async () => {
    const cwd = await emptyDir();
    const sticksFile = join(cwd, 'sticks.json');
    const textfile = join(cwd, 'trucki.prom');
    await writeFile(sticksFile, JSON.stringify([entry(0, 'tf-one'), entry(1, 'tf-two')]));
    const loop = await startCli(
      ['--targets-file', 'sticks.json', '--textfile', textfile, '-s', '* * * * * *', '--verbose'],
      {
        cwd,
        env: quickTicks,
      },
    );
    try {
      await until(
        async () => /stick="tf-one"[^]*stick="tf-two"|stick="tf-two"[^]*stick="tf-one"/.test(await readText(textfile)),
        {
          what: 'both sticks in the textfile',
        },
      );
      await writeFile(sticksFile, JSON.stringify([entry(1, 'tf-two')]));
      await loop.waitFor(/sticks\.json: removed tf-one, left out for 5 s or more$/m);
      // The run on the tick that removed it has written the file once the next run is logged.
      const changedAt = loop.stderr().search(/sticks\.json: removed/);
      await until(() => count(/^stick tf-two .*read \d+ samples/m, loop.stderr().slice(changedAt)) >= 2, {
        what: 'two runs after the change',
      });
      const text = await readText(textfile);
      assert.match(text, /^trucki_up\{(?=[^}]*stick="tf-two")[^}]*\} 1$/m);
      assert.doesNotMatch(text, /tf-one/, 'the removed stick is still written');
    } finally {
      assert.deepEqual(await loop.stop(), { code: 0, signal: null });
      await rm(cwd, { recursive: true, force: true });
    }
  });

  test('a --stdout loop prints a stick added to the file', async () => {
    const cwd = await emptyDir();
    await writeFile(join(cwd, 'sticks.json'), JSON.stringify([entry(0, 'out-one')]));
    const loop = await startCli(['--targets-file', 'sticks.json', '--stdout', '-s', '* * * * * *', '--verbose'], {
      cwd,
      env: quickTicks,
      captureStdout: true,
    });
    try {
      await until(() => loop.stdout().includes('# stick out-one'), { what: 'out-one printed' });
      await writeFile(join(cwd, 'sticks.json'), JSON.stringify([entry(0, 'out-one'), entry(1, 'out-two')]));
      await loop.waitFor(
        /sticks\.json changed: 2 sticks; added out-two \(started at the first run 5 s from now if still named\)$/m,
      );
      await until(() => count(/^stick out-two .*read \d+ samples/m, loop.stderr()) >= 2, {
        what: 'two runs of out-two',
      });
      // A run's print: out-one's block, then out-two's, read.
      assert.match(
        loop.stdout(),
        /^# stick out-one\n(?:(?!# stick ).*\n)+# stick out-two\n(?:(?!# stick ).*\n)*?trucki_up 1\n/m,
        'out-two, after out-one',
      );
    } finally {
      assert.deepEqual(await loop.stop(), { code: 0, signal: null });
      await rm(cwd, { recursive: true, force: true });
    }
  });

  test('with --delete-on-exit, a stick removed while its read is in flight leaves no group behind', async () => {
    const hung = await startHostileStick('never answers');
    const cwd = await emptyDir();
    const sticksFile = join(cwd, 'sticks.json');
    const slow = { targets: [hung.url.replace('http://', '')], labels: { instance: 'gone-slow', site: 'test' } };
    await writeFile(sticksFile, JSON.stringify([entry(0, 'gone-kept'), slow]));
    // On the cron pattern, not the test ticker: a tick must come while the slow stick is read.
    const loop = await startCli(
      [
        ...[
          '--targets-file',
          'sticks.json',
          '-g',
          pushgateway.url,
          '-s',
          '* * * * * *',
          '--delete-on-exit',
          '--verbose',
        ],
        ...['--timeout', '30000', '--retries', '0'],
      ],
      { cwd },
    );
    try {
      await loop.waitFor(/^stick gone-kept .*pushed$/m);
      assert.equal(count(/^stick gone-slow /m, loop.stderr()), 0, 'the slow read was not in flight any more');
      await writeFile(sticksFile, JSON.stringify([entry(0, 'gone-kept')]));
      await loop.waitFor(/sticks\.json: removed gone-slow, left out for 5 s or more$/m);
      // Its first read is still in flight (30 s): it ends now, after the removal, and is not pushed.
      await hung.close();
      await loop.waitFor(/^stick gone-slow: deleted its group/m, 10_000);
      await loop.waitFor(
        /removed gone-slow, .*$[^]*^stick gone-slow .*failed, .*; not pushed: removed from the targets file$/m,
      );
      // Two more runs of the kept stick: nothing of the slow one lands any more.
      const seen = count(/^stick gone-kept .*pushed$/m, loop.stderr());
      await until(() => count(/^stick gone-kept .*pushed$/m, loop.stderr()) >= seen + 2, { what: 'two more runs' });
      assert.equal(await pushgateway.group({ job: 'trucki', instance: 'gone-slow', site: 'test' }), undefined);
    } finally {
      assert.deepEqual(await loop.stop(), { code: 0, signal: null });
      await hung.close();
      await rm(cwd, { recursive: true, force: true });
    }
  });
});

test('a stick at a new address is the same stick: its group stays, its identity is read anew', async () => {
  const moved = await startSimulator({ variant: 'T2MG' });
  const cwd = await emptyDir();
  const at = (url: string) => JSON.stringify([{ targets: [url], labels: { instance: 'moving', site: 'test' } }]);
  await writeFile(join(cwd, 'sticks.json'), at(sticks[0]!.url));
  const loop = await startCli(
    ['--targets-file', 'sticks.json', '-g', pushgateway.url, '-s', '* * * * * *', '--delete-on-exit', '--verbose'],
    { cwd, env: quickTicks },
  );
  const variant = async (name: string) =>
    sampleValue(await pushgateway.group({ job: 'trucki', instance: 'moving', site: 'test' }), 'trucki_stick_info', {
      variant: name,
    });
  try {
    await until(() => variant('T2SG'), { what: 'the first stick read' });
    await writeFile(join(cwd, 'sticks.json'), at(moved.url));
    // Its /jsononce is read at the new address at once, not ten minutes later.
    await until(() => variant('T2MG'), { what: 'the identity of the stick at the new address' });
    assert.match(loop.stderr(), /sticks\.json changed: 1 stick; new address for moving$/m);
    assert.doesNotMatch(loop.stderr(), /deleted its group/);
  } finally {
    assert.deepEqual(await loop.stop(), { code: 0, signal: null });
    await moved.close();
    await rm(cwd, { recursive: true, force: true });
  }
});

test('with --delete-on-exit, a stick removed and added again while its read is in flight is pushed again after its deletion', async () => {
  const hung = await startHostileStick('never answers');
  const cwd = await emptyDir();
  const sticksFile = join(cwd, 'sticks.json');
  const slow = { targets: [hung.url.replace('http://', '')], labels: { instance: 'back-slow', site: 'test' } };
  await writeFile(sticksFile, JSON.stringify([entry(0, 'back-kept'), slow]));
  const loop = await startCli(
    [
      ...['--targets-file', 'sticks.json', '-g', pushgateway.url, '-s', '* * * * * *', '--delete-on-exit', '--verbose'],
      ...['--timeout', '30000', '--retries', '0'],
    ],
    { cwd },
  );
  try {
    await loop.waitFor(/^stick back-kept .*pushed$/m);
    await writeFile(sticksFile, JSON.stringify([entry(0, 'back-kept')]));
    await loop.waitFor(/sticks\.json: removed back-slow, left out for 5 s or more$/m);
    await writeFile(sticksFile, JSON.stringify([slow, entry(0, 'back-kept')]));
    await loop.waitFor(
      /sticks\.json changed: 2 sticks; added back-slow \(started at the first run 5 s from now if still named\)$/m,
    );
    // Its first read is still in flight (30 s): it ends now, and only then is its group deleted.
    await hung.close();
    await loop.waitFor(/^stick back-slow: deleted its group/m, 10_000);
    // Its next run, after the deletion, pushes it again: the deletion does not win for good.
    await loop.waitFor(/^stick back-slow: deleted its group[^]*^stick back-slow .*pushed trucki_up 0$/m, 10_000);
    const group = await pushgateway.group({ job: 'trucki', instance: 'back-slow', site: 'test' });
    assert.equal(sampleValue(group, 'trucki_up'), 0);
  } finally {
    assert.deepEqual(await loop.stop(), { code: 0, signal: null });
    await hung.close();
    await rm(cwd, { recursive: true, force: true });
  }
});

describe('a removal from the file waits until the file has left the stick out for 5 s', () => {
  /**
   * A loop's view of a YAML targets file in a new directory: what it runs, what it removed, what it
   * said, on a clock that `tick` moves.
   */
  async function follow() {
    let now = 1_000_000;
    const tick = (ms: number) => {
      now += ms;
    };
    const cwd = await emptyDir();
    const path = join(cwd, 'sticks.yml');
    const yaml = (...instances: string[]) =>
      instances.map((instance) => `- targets: ['${instance}.test:80']\n  labels: {instance: ${instance}}\n`).join('');
    await writeFile(path, yaml('s1', 's2', 's3'));
    const lines: string[] = [];
    const removed: string[] = [];
    // What the start read from the file.
    const initial = ['s1', 's2', 's3'].map((instance) => ({
      url: new URL(`http://${instance}.test/`),
      instance,
      labels: [],
    }));
    const targets = await watchTargetsFile(
      { path, name: '--targets-file sticks.yml', auth: {}, grouping: [] },
      initial,
      (line) => lines.push(line),
      (gone) => removed.push(...gone.map(({ instance }) => instance)),
      () => now,
    );
    const running = () =>
      targets()
        .map(({ instance }) => instance)
        .sort()
        .join(',');
    return { cwd, path, yaml, lines, removed, running, tick };
  }

  test('a file read half-written (rewritten in place: the first entry, a pause, the rest) removes nothing', async () => {
    const { cwd, path, yaml, lines, removed, running, tick } = await follow();
    try {
      assert.equal(running(), 's1,s2,s3');
      // As `>` does: the file emptied, its first entry written, and read before the rest comes.
      await writeFile(path, yaml('s1'));
      assert.equal(running(), 's1,s2,s3', 'the half-written file stopped sticks');
      tick(1000);
      await writeFile(path, yaml('s1', 's2', 's3'));
      assert.equal(running(), 's1,s2,s3');
      tick(60_000);
      assert.equal(running(), 's1,s2,s3');
      assert.deepEqual(removed, [], lines.join('\n'));
      assert.deepEqual(lines.slice(1), [
        '--targets-file sticks.yml changed: 1 stick; left out: s2, s3 (removed at the first run 5 s from now if still left out)',
        '--targets-file sticks.yml changed: 3 sticks; named again: s2, s3, kept',
      ]);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  test('a stick left out for 5 s is removed at the next run, one added for 5 s started', async () => {
    const { cwd, path, yaml, lines, removed, running, tick } = await follow();
    try {
      assert.equal(running(), 's1,s2,s3');
      await writeFile(path, yaml('s1', 's2', 's4'));
      assert.equal(running(), 's1,s2,s3');
      tick(4999);
      assert.equal(running(), 's1,s2,s3');
      // Rewritten again in the meantime, still without s3: the 5 s count from when it was first left out.
      await writeFile(path, yaml('s4', 's1', 's2'));
      tick(1);
      assert.equal(running(), 's1,s2,s4');
      assert.deepEqual(removed, ['s3']);
      assert.equal(lines.at(-1), '--targets-file sticks.yml: removed s3, left out for 5 s or more');
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  test('a name read half-written (cut mid-name) starts no stick: an added one starts once named for 5 s', async () => {
    const { cwd, path, yaml, lines, running, tick } = await follow();
    try {
      assert.equal(running(), 's1,s2,s3');
      // As `>` does: the new entry's name cut short, and read before the rest comes.
      const block = `${yaml('s1', 's2', 's3')}- targets: ['stick4.test:80']\n  labels:\n    instance: stick4\n`;
      await writeFile(path, block.slice(0, -3));
      assert.equal(running(), 's1,s2,s3', 'a stick of a half-written name started');
      tick(1000);
      await writeFile(path, block);
      assert.equal(running(), 's1,s2,s3');
      tick(4999);
      assert.equal(running(), 's1,s2,s3');
      tick(1);
      assert.equal(running(), 's1,s2,s3,stick4');
      tick(60_000);
      assert.equal(running(), 's1,s2,s3,stick4');
      assert.deepEqual(lines.slice(1), [
        '--targets-file sticks.yml changed: 4 sticks; added stic (started at the first run 5 s from now if still named)',
        '--targets-file sticks.yml changed: 4 sticks; added stick4 (started at the first run 5 s from now if still named)',
        '--targets-file sticks.yml: started stick4, named for 5 s or more',
      ]);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  test('a file that cannot be read meanwhile (emptied, a FIFO, a link to nothing) restarts the count', async () => {
    const { cwd, path, yaml, removed, running, tick } = await follow();
    try {
      assert.equal(running(), 's1,s2,s3');
      await writeFile(path, yaml('s1'));
      assert.equal(running(), 's1,s2,s3');
      const swaps: (() => Promise<void>)[] = [
        () => writeFile(path, ''),
        async () => {
          await rm(path);
          execFileSync('mkfifo', [path]);
        },
        async () => {
          await rm(path);
          await symlink(join(cwd, 'nothing.yml'), path);
        },
      ];
      for (const swap of swaps) {
        tick(4000);
        await swap();
        assert.equal(running(), 's1,s2,s3');
        tick(4000);
        await rm(path);
        await writeFile(`${path}.new`, yaml('s1'));
        await rename(`${path}.new`, path);
        assert.equal(running(), 's1,s2,s3', 'removed 4 s after a good read');
      }
      tick(5000);
      assert.equal(running(), 's1');
      assert.deepEqual(removed, ['s2', 's3']);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
