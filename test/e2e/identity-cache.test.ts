/**
 * /jsononce read once (issue 18.3): a one-shot run keeps the identity and configuration samples in
 * the cache directory for ten minutes, in one file for all its sticks that holds no secret; anything
 * else found there is ignored and rewritten. The job is the bundle, the stick the simulator behind a
 * counting pass-through, which can also fail a request on purpose.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { identityFile } from '../../src/identity-cache.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { emptyDir, runCli } from '../helpers/cli.js';
import { startProxy, type Proxy, type ProxyOptions } from '../helpers/proxy.js';
import { sampleValue, startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';
import { until } from '../helpers/until.js';

let simulator: Simulator;
before(async () => {
  simulator = await startSimulator({ variant: 'T2SG' });
});
after(async () => {
  await simulator.close();
});

const onceAsked = (stick: Proxy) => stick.seen.filter(({ url }) => url === '/jsononce').length;
const stickInfo = /^trucki_stick_info\{.*device="T2SGA55A69"/m;

interface Entry {
  readonly at: number;
  readonly payload: Record<string, unknown>;
}

/** The one stick's entry in the file `text`, and a write of the file at `path` with that entry changed. */
function onlyEntry(path: string, text: string) {
  const { sticks } = JSON.parse(text) as { sticks: Record<string, Entry> };
  const [[key, kept]] = Object.entries(sticks) as [[string, Entry]];
  const rewrite = (change: Partial<Entry>) =>
    writeFile(path, JSON.stringify({ sticks: { [key]: { ...kept, ...change } } }));
  return { key, kept, rewrite };
}

/** A counting stick, a cache directory, and a one-shot run to standard output against both. */
async function setUp(options: ProxyOptions = {}) {
  const stick = await startProxy(simulator.url, options);
  const cache = await emptyDir();
  const run = async (env: Record<string, string> = { CACHE_DIRECTORY: cache }) => {
    const result = await runCli(['-t', `roof=${stick.url}`, '--stdout'], { env });
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };
  const files = async () => (await readdir(cache)).filter((name) => name.startsWith('jsononce'));
  const close = async () => {
    await stick.close();
    await rm(cache, { recursive: true, force: true });
  };
  return { stick, cache, run, files, close };
}

describe('a one-shot run with a cache directory', () => {
  let pushgateway: RunningPushgateway;
  before(async () => {
    pushgateway = await startPushgateway();
  });
  after(async () => {
    await pushgateway.stop();
  });

  test('two runs within the lifetime read /jsononce once and both push trucki_stick_info', async () => {
    const { stick, cache, close } = await setUp();
    try {
      for (const run of [1, 2]) {
        const result = await runCli(['-t', `roof=${stick.url}`, '-g', pushgateway.url], {
          env: { CACHE_DIRECTORY: cache },
        });
        assert.equal(result.code, 0, result.stderr);
        const group = await pushgateway.group({ job: 'trucki', instance: 'roof' });
        assert.equal(sampleValue(group, 'trucki_stick_info', { device: 'T2SGA55A69' }), 1, `run ${run}`);
        assert.equal(sampleValue(group, 'trucki_config_max_power_watts'), 1000, `run ${run}`);
      }
      assert.equal(onceAsked(stick), 1, '/jsononce read again within the lifetime');
      assert.equal(stick.seen.filter(({ url }) => url === '/jsonlive').length, 2);
    } finally {
      await close();
    }
  });
});

describe('/jsononce kept across one-shot runs', () => {
  test('without a cache directory every run reads it', async () => {
    const { stick, run, files, close } = await setUp();
    try {
      // Only PATH: no CACHE_DIRECTORY, XDG_CACHE_HOME or HOME.
      for (let i = 0; i < 3; i++) assert.match(await run({}), stickInfo);
      assert.equal(onceAsked(stick), 3);
      // A HOME that cannot hold a cache is no cache either, and no failure.
      for (let i = 0; i < 2; i++) assert.match(await run({ HOME: '/proc/self/nonexistent' }), stickInfo);
      assert.equal(onceAsked(stick), 5);
      assert.deepEqual(await files(), []);
    } finally {
      await close();
    }
  });

  test('XDG_CACHE_HOME, else HOME/.cache: a trucki2pushgateway directory there', async () => {
    const { stick, cache, run, close } = await setUp();
    try {
      await run({ XDG_CACHE_HOME: join(cache, 'xdg'), HOME: join(cache, 'home') });
      await run({ XDG_CACHE_HOME: join(cache, 'xdg'), HOME: join(cache, 'home') });
      assert.equal(onceAsked(stick), 1);
      assert.ok((await readdir(join(cache, 'xdg', 'trucki2pushgateway'))).includes(identityFile));
      // HOME exists; its .cache is made.
      await mkdir(join(cache, 'home'));
      await run({ HOME: join(cache, 'home') });
      await run({ HOME: join(cache, 'home') });
      assert.equal(onceAsked(stick), 2);
      assert.ok((await readdir(join(cache, 'home', '.cache', 'trucki2pushgateway'))).includes(identityFile));
    } finally {
      await close();
    }
  });

  test('a failed /jsononce read is not kept', async () => {
    let failing = true;
    const { stick, run, files, close } = await setUp({
      fail: ({ url }) => (failing && url === '/jsononce' ? 503 : undefined),
    });
    try {
      assert.doesNotMatch(await run(), stickInfo, 'the first run had no identity');
      failing = false;
      const failed = onceAsked(stick);
      assert.deepEqual(await files(), [], 'a failed read was kept');
      assert.match(await run(), stickInfo);
      assert.match(await run(), stickInfo);
      assert.equal(onceAsked(stick), failed + 1, 'the second run reads it, the third keeps it');
    } finally {
      await close();
    }
  });

  test('the file holds what the catalogue reads of the answer, no secret of it nor of the address, mode 0600', async () => {
    const { stick, cache, files, close } = await setUp();
    try {
      const withCredentials = stick.url.replace('http://', 'http://cache-user:cache-secret@');
      const result = await runCli(['-t', `roof=${withCredentials}`, '--stdout'], { env: { CACHE_DIRECTORY: cache } });
      assert.equal(result.code, 0, result.stderr);
      const [file] = await files();
      assert.ok(file, 'nothing kept');
      const text = await readFile(join(cache, file), 'utf8');
      assert.match(text, /"DEVICENAME":"T2SGA55A69"/);
      // The simulator's /jsononce carries ADMIN_PASS, WIFIPASS, MQTT_PASS, METER_PASS, BEARER, SHELLY_PASS.
      assert.doesNotMatch(text, /sim-[a-z]+-secret|PASS|BEARER|METERURL|cache-user|cache-secret/);
      assert.equal((await stat(join(cache, file))).mode & 0o777, 0o600);
    } finally {
      await close();
    }
  });

  test('after its lifetime, or with a time to come, the stick is read again', async () => {
    const { stick, cache, run, files, close } = await setUp();
    try {
      await run();
      assert.deepEqual(await files(), [identityFile]);
      const path = join(cache, identityFile);
      const { rewrite } = onlyEntry(path, await readFile(path, 'utf8'));
      const keptAt = (at: number) => rewrite({ at });
      for (const at of [Date.now() - 10 * 60_000 - 1_000, Date.now() + 3_600_000]) {
        await keptAt(at);
        const before = onceAsked(stick);
        assert.match(await run(), stickInfo);
        assert.equal(onceAsked(stick), before + 1, `kept at ${new Date(at).toISOString()} was used`);
      }
      // Nine minutes old: still used.
      await keptAt(Date.now() - 9 * 60_000);
      const before = onceAsked(stick);
      assert.match(await run(), stickInfo);
      assert.equal(onceAsked(stick), before);
    } finally {
      await close();
    }
  });

  test('a stick that was away (a firmware update restarts it) is read afresh', async () => {
    let away = false;
    const { stick, cache, run, close } = await setUp({
      fail: ({ url }) => (away && url === '/jsonlive' ? 503 : undefined),
    });
    try {
      await run();
      await run();
      assert.equal(onceAsked(stick), 1);
      away = true;
      const dark = await runCli(['-t', `roof=${stick.url}`, '--stdout'], { env: { CACHE_DIRECTORY: cache } });
      assert.notEqual(dark.code, 0, 'the stick was away');
      away = false;
      const asked = onceAsked(stick);
      assert.match(await run(), stickInfo);
      assert.equal(onceAsked(stick), asked + 1, 'the identity of before the outage was used');
    } finally {
      await close();
    }
  });

  test('a corrupt, foreign, special, linked or oversized file is ignored and rewritten', async () => {
    const { stick, cache, run, files, close } = await setUp();
    try {
      await run();
      assert.deepEqual(await files(), [identityFile]);
      const path = join(cache, identityFile);
      const good = await readFile(path, 'utf8');
      const elsewhere = join(cache, 'elsewhere.json');
      await writeFile(elsewhere, good);
      const { key, kept, rewrite } = onlyEntry(path, good);
      const withPayload = (payload: Record<string, unknown>) => rewrite({ payload });
      const spoil: Record<string, () => Promise<void>> = {
        garbage: () => writeFile(path, 'not json at all \u0000\n'),
        'JSON of another shape': () => writeFile(path, JSON.stringify({ hello: [1, 2, 3] })),
        "another stick's": () => writeFile(path, JSON.stringify({ sticks: { '["http://127.0.0.1:9/","x"]': kept } })),
        'no key the catalogue reads': () => withPayload({ ADMIN_PASS: 'x', hello: 1 }),
        'catalogue keys of the wrong shape only': () =>
          withPayload(Object.fromEntries(Object.keys(kept.payload).map((name) => [name, { nested: [1] }]))),
        'a named pipe': async () => {
          await rm(path);
          execFileSync('mkfifo', [path]);
        },
        'a symbolic link to a good copy': async () => {
          await rm(path);
          await symlink(elsewhere, path);
        },
        '17 MiB': () => writeFile(path, good.replace(/}$/, `,"pad":"${'x'.repeat(17 * 1024 * 1024)}"}`)),
        // JSON.parse takes any depth, JSON.stringify of what it gave overflows the stack.
        "another stick's, nested deep": () =>
          writeFile(
            path,
            `{"sticks":{"x":{"at":${Date.now()},"payload":{"DEVICENAME":${'['.repeat(300_000)}${']'.repeat(300_000)}}}}}`,
          ),
      };
      for (const [what, damage] of Object.entries(spoil)) {
        await damage();
        const asked = onceAsked(stick);
        assert.match(await run(), stickInfo, what);
        assert.equal(onceAsked(stick), asked + 1, `${what}: used instead of reading the stick`);
        assert.ok((await lstat(path)).isFile(), `${what}: not rewritten`);
        const rewritten = JSON.parse(await readFile(path, 'utf8')) as { sticks: Record<string, unknown> };
        // Another stick's entry stays: it may be another timer's.
        assert.ok(Object.hasOwn(rewritten.sticks, key), `${what}: not rewritten`);
      }
      assert.equal(await readFile(elsewhere, 'utf8'), good, 'the link was written through');
      // An entry is read as the stick's answer is: what a terminal would obey never reaches a label.
      await withPayload({ ...kept.payload, DEVICENAME: 'T2SG\u001b[2J\u009b1m\u202eX' });
      const asked = onceAsked(stick);
      const out = await run();
      assert.equal(onceAsked(stick), asked, 'a kept entry was not used');
      assert.match(out, /^trucki_stick_info\{.*device="T2SG\[2J1mX"/m);
    } finally {
      await close();
    }
  });

  test("a run saving while another ran keeps both runs' sticks (another timer, the same directory)", async () => {
    const { stick, cache, close } = await setUp();
    // A stick that answers only when let: its run has read the file by then, and waits.
    let seen = 0;
    let answer!: () => void;
    const held = new Promise<void>((resolve) => (answer = resolve));
    const slow = createServer((request, response) => {
      seen++;
      void held
        .then(() => fetch(`${simulator.url}${request.url ?? '/'}`))
        .then(async (upstream) => response.writeHead(upstream.status).end(await upstream.text()));
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    const env = { CACHE_DIRECTORY: cache };
    try {
      const first = runCli(['-t', `shed=${slowUrl}`, '--stdout'], { env });
      await until(() => seen > 0, { what: "the held stick's first request" });
      const second = await runCli(['-t', `roof=${stick.url}`, '--stdout'], { env });
      assert.equal(second.code, 0, second.stderr);
      answer();
      const result = await first;
      assert.equal(result.code, 0, result.stderr);
      const { sticks } = JSON.parse(await readFile(join(cache, identityFile), 'utf8')) as { sticks: object };
      const names = Object.keys(sticks).map((key) => (JSON.parse((JSON.parse(key) as string[])[1]!) as string[])[0]);
      assert.deepEqual(names.sort(), ['roof', 'shed'], 'the later save dropped what the other run had kept');
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
      await close();
    }
  });

  test("a fleet's sticks share one file; another run's sticks stay in it while fresh, then go", async () => {
    const { stick, cache, close } = await setUp();
    const path = join(cache, identityFile);
    const run = async (...names: string[]) => {
      const args = names.flatMap((name) => ['-t', `${name}=${stick.url}`]);
      const result = await runCli([...args, '--stdout'], { env: { CACHE_DIRECTORY: cache } });
      assert.equal(result.code, 0, result.stderr);
    };
    type Sticks = Record<string, { at: number }>;
    const sticksIn = async () => (JSON.parse(await readFile(path, 'utf8')) as { sticks: Sticks }).sticks;
    // A key is [address, stickIdentity], and stickIdentity is [instance, labels].
    const nameOf = (key: string) => (JSON.parse((JSON.parse(key) as [string, string])[1]) as [string])[0];
    const keyOf = (sticks: Sticks, name: string) => Object.keys(sticks).find((key) => nameOf(key) === name)!;
    try {
      // Two timers' runs over one cache directory: one for two sticks, one for a third.
      await run('roof', 'shed');
      await run('garage');
      assert.equal(onceAsked(stick), 3);
      assert.deepEqual(
        (await readdir(cache)).filter((name) => name.startsWith('jsononce')),
        [identityFile],
      );
      const sticks = await sticksIn();
      assert.deepEqual(Object.keys(sticks).map(nameOf).sort(), ['garage', 'roof', 'shed']);
      await run('roof', 'shed');
      assert.equal(onceAsked(stick), 3, 'the second run lost what the first one kept');
      // The garage's entry past its lifetime, the roof's gone: the roof's run writes the file anew.
      const garage = keyOf(sticks, 'garage');
      const roof = keyOf(sticks, 'roof');
      const changed = Object.entries(sticks)
        .filter(([key]) => key !== roof)
        .map(([key, entry]): [string, { at: number }] => [key, key === garage ? { ...entry, at: 1 } : entry]);
      await writeFile(path, JSON.stringify({ sticks: Object.fromEntries(changed) }));
      await run('roof');
      assert.equal(onceAsked(stick), 4);
      assert.deepEqual(
        Object.keys(await sticksIn())
          .map(nameOf)
          .sort(),
        ['roof', 'shed'],
      );
    } finally {
      await close();
    }
  });
});
