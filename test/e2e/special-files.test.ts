/**
 * Every file the user names by option (a secret's <NAME>_FILE, a systemd credential, --env-file, a
 * CA, the targets file) is read only if it is a regular file within its bound: a named pipe, a
 * device, a directory, a socket, a link loop or a huge file is exit 2 with one line naming the
 * option and the file, never a hang, never memory without end, never the file's content.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';

let dir: string;
let socketServer: Server;
/** Written into every oversized file: must never show in a message. */
const marker = 'CONTENT-MARKER-b7f3';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'special-files-'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  await mkdir(join(dir, 'directory'));
  await symlink(join(dir, 'loop-b'), join(dir, 'loop-a'));
  await symlink(join(dir, 'loop-a'), join(dir, 'loop-b'));
  const big = `${marker}=${'x'.repeat(2 * 1024 * 1024)}\n`;
  await writeFile(join(dir, 'big'), big);
  await writeFile(join(dir, 'unreadable'), `${marker}\n`, { mode: 0o000 });
  socketServer = createServer();
  await new Promise<void>((resolve) => socketServer.listen(join(dir, 'socket'), resolve));
});
after(async () => {
  await new Promise((resolve) => socketServer.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** How each kind of file is named by each option: `path` for the option, `label` in the message. */
interface Use {
  readonly option: string;
  readonly run: (path: string) => { args: string[]; env?: Record<string, string> };
  /** How the message names the option and the file. */
  readonly named: (path: string) => string;
}

const dead = '127.0.0.1:9';
const uses: Use[] = [
  {
    option: 'TRUCKI_STICK_PASSWORD_FILE',
    run: (path) => ({ args: ['-t', dead, '--stdout'], env: { TRUCKI_STICK_PASSWORD_FILE: path } }),
    named: (path) => `TRUCKI_STICK_PASSWORD_FILE "${path}"`,
  },
  {
    option: 'PUSHGATEWAY_PASSWORD_FILE in --env-file',
    run: (path) => ({
      args: [
        '-t',
        dead,
        '--pushgateway',
        `http://${dead}`,
        '--retries',
        '0',
        '--env-file',
        join(dir, `points-at-${base(path)}.env`),
      ],
    }),
    named: (path) => `PUSHGATEWAY_PASSWORD_FILE in ${join(dir, `points-at-${base(path)}.env`)} "${path}"`,
  },
  {
    option: 'systemd credential',
    run: (path) => ({
      args: ['-t', dead, '--stdout'],
      env: { CREDENTIALS_DIRECTORY: join(dir, `credentials-${base(path)}`) },
    }),
    named: () => 'systemd credential TRUCKI_STICK_PASSWORD',
  },
  {
    option: '--env-file',
    run: (path) => ({ args: ['--env-file', path, '-t', dead, '--stdout'] }),
    named: (path) => `--env-file ${path}`,
  },
  {
    option: 'PUSHGATEWAY_CA_FILE',
    run: (path) => ({
      args: ['-t', dead, '--pushgateway', `https://${dead}`, '--retries', '0'],
      env: { PUSHGATEWAY_CA_FILE: path },
    }),
    named: (path) => `PUSHGATEWAY_CA_FILE "${path}"`,
  },
  {
    option: 'VICTORIAMETRICS_CA_FILE',
    run: (path) => ({
      args: ['-t', dead, '--victoriametrics', `https://${dead}`, '--retries', '0'],
      env: { VICTORIAMETRICS_CA_FILE: path },
    }),
    named: (path) => `VICTORIAMETRICS_CA_FILE "${path}"`,
  },
];

const base = (path: string) =>
  path
    .split('/')
    .at(-1)!
    .replace(/[^a-z-]/g, '');

/** The special files, and what the message says of each. */
const kinds: { name: string; path: () => string; says: RegExp }[] = [
  { name: 'a named pipe', path: () => join(dir, 'fifo'), says: /is not a regular file \(a named pipe\)$/ },
  { name: '/dev/zero', path: () => '/dev/zero', says: /is not a regular file \(a character device\)$/ },
  { name: 'a directory', path: () => join(dir, 'directory'), says: /is not a regular file \(a directory\)$/ },
  { name: 'a socket', path: () => join(dir, 'socket'), says: /is not a regular file \(a socket\)$/ },
  { name: 'a loop of symbolic links', path: () => join(dir, 'loop-a'), says: /cannot be read \(ELOOP\)$/ },
  { name: 'a 2 MiB file', path: () => join(dir, 'big'), says: /is larger than 1 MiB: not read$/ },
];

describe('a file named by an option that is not a small regular file: exit 2 naming it, never a hang', () => {
  before(async () => {
    for (const kind of kinds) {
      const path = kind.path();
      await writeFile(join(dir, `points-at-${base(path)}.env`), `PUSHGATEWAY_PASSWORD_FILE=${path}\n`);
      const credentials = join(dir, `credentials-${base(path)}`);
      await mkdir(credentials);
      await symlink(path, join(credentials, 'TRUCKI_STICK_PASSWORD'));
    }
  });

  for (const use of uses) {
    for (const kind of kinds) {
      test(`${use.option} naming ${kind.name}`, async () => {
        const path = kind.path();
        const { args, env } = use.run(path);
        // Before the fix a pipe hung until this timeout and /dev/zero grew without end.
        const result = await runCli(args, { ...(env && { env }), timeoutMs: 15_000 });
        assert.equal(result.signal, null, `killed after the timeout: ${result.stderr}`);
        assert.equal(result.code, 2, result.stderr);
        const lines = result.stderr.trim().split('\n');
        assert.equal(lines.length, 1, result.stderr);
        assert.ok(lines[0]!.includes(use.named(path)), `${lines[0]} does not name ${use.named(path)}`);
        assert.match(lines[0]!, kind.says);
        assert.ok(!result.stderr.includes(marker), 'the file content was shown');
      });
    }
  }

  test(
    'an unreadable file is named with its errno, not its content',
    { skip: process.getuid?.() === 0 && 'root reads a 0000 file' },
    async () => {
      const path = join(dir, 'unreadable');
      const result = await runCli(['-t', dead, '--stdout'], { env: { TRUCKI_STICK_PASSWORD_FILE: path } });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /TRUCKI_STICK_PASSWORD_FILE ".*unreadable" cannot be read \(EACCES\)/);
    },
  );
});

describe('a regular file within the bound is read', () => {
  test('a symbolic link to a regular file is followed', async () => {
    const secret = join(dir, 'password');
    await writeFile(secret, 'pass word\n');
    await symlink(secret, join(dir, 'password-link'));
    await writeFile(join(dir, 'link.env'), `TRUCKI_STICK_PASSWORD_FILE=${join(dir, 'password-link')}\n`);
    // Read and used: the run gets as far as the (dead) stick.
    const result = await runCli(['--env-file', join(dir, 'link.env'), '-t', dead, '--stdout', '--retries', '0']);
    // 69: delivered, the stick dark (issue 16.4).
    assert.equal(result.code, 69, result.stderr);
    assert.doesNotMatch(result.stderr, /password-link|not a regular file|cannot be read/);
  });

  test('a file of exactly 1 MiB is read; one byte more is refused', async () => {
    const path = join(dir, 'exact.env');
    const line = 'TRUCKI_TARGET=127.0.0.1:9\n';
    const filler = `#${'-'.repeat(1024 * 1024 - line.length - 2)}\n`;
    await writeFile(path, line + filler);
    const read = await runCli(['--env-file', path, '--stdout', '--retries', '0']);
    assert.equal(read.code, 69, read.stderr);
    assert.match(read.stderr, /127\.0\.0\.1:9/);
    await writeFile(path, `${line + filler}\n`);
    const refused = await runCli(['--env-file', path, '--stdout', '--retries', '0']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /--env-file .*exact\.env is larger than 1 MiB: not read/);
  });

  test('a targets file beyond 16 MiB is refused, one within is read', async () => {
    const path = join(dir, 'sticks.json');
    const list = `[{"targets": ["${dead}"]}]`;
    await writeFile(path, list + ' '.repeat(16 * 1024 * 1024 - list.length));
    const read = await runCli(['--targets-file', path, '--stdout', '--retries', '0']);
    assert.equal(read.code, 69, read.stderr);
    await writeFile(path, list + ' '.repeat(16 * 1024 * 1024 + 1 - list.length));
    const refused = await runCli(['--targets-file', path, '--stdout', '--retries', '0']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /--targets-file .*sticks\.json is larger than 16 MiB: not read$/m);
  });

  test('a targets file naming a pipe, a device or a directory is refused in words', async () => {
    for (const [target, says] of [
      [join(dir, 'fifo'), 'a named pipe'],
      ['/dev/zero', 'a character device'],
      [join(dir, 'directory'), 'a directory'],
    ] as const) {
      const link = join(dir, `to-${base(target)}.yml`);
      await symlink(target, link);
      const result = await runCli(['--targets-file', link, '--stdout'], { timeoutMs: 15_000 });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`to-${base(target)}\\.yml is not a regular file \\(${says}\\)$`, 'm'));
    }
  });
});

describe('the default .env in the working directory', () => {
  test('a named pipe is refused, not waited on', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'dotenv-fifo-'));
    try {
      execFileSync('mkfifo', [join(cwd, '.env')]);
      const result = await runCli(['-t', dead, '--stdout'], { cwd, timeoutMs: 15_000 });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr, 'trucki2pushgateway: the env file .env is not a regular file (a named pipe)\n');
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  test('a dangling link is named, not taken for no file', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'dotenv-dangling-'));
    try {
      await symlink(join(cwd, 'gone.env'), join(cwd, '.env'));
      const result = await runCli(['-t', dead, '--stdout'], { cwd });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr, 'trucki2pushgateway: the env file .env cannot be read (ENOENT)\n');
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
