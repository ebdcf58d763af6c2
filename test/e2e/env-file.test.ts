/**
 * The env file means one thing: the job's --env-file (dotenv) and the units' EnvironmentFile=
 * (systemd) read the same file. Each line of the table is either read the same by both (and the
 * job reads what systemd does) or refused, naming the line and the variable, never the value.
 * Where the machine allows, systemd's own parser is asked too: `systemd-analyze condition
 * ConditionOSRelease=` reads /etc/os-release with the code EnvironmentFile= uses, and a private
 * mount namespace puts the table's file there.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'dotenv';
import { readCommand } from '../../src/config/load.js';
import { systemdReading } from '../../src/config/env-file.js';
import { ConfigError } from '../../src/errors.js';
import { repoRoot } from '../helpers/paths.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'env-file-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const P = 'PUSHGATEWAY_PASSWORD';
/** What the job reads as the Pushgateway password from the file, or the message refusing it. */
async function jobReads(text: string): Promise<{ password?: string; refused?: string }> {
  const file = join(dir, 'job.env');
  await writeFile(file, text);
  try {
    const command = await readCommand(['--env-file', file, '-t', '127.0.0.1:9', '-g', 'http://127.0.0.1:9'], {}, dir);
    assert.equal(command.kind, 'run');
    const password = command.kind === 'run' ? command.config.pushgateway?.password : undefined;
    return password === undefined ? {} : { password };
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return { refused: error.message };
  }
}

/** Whether real systemd reads `name` as `value` from `text`; undefined where it cannot be asked. */
let systemdAsk: ((text: string | Buffer, name: string, value: string) => Promise<boolean>) | undefined;
before(() => {
  try {
    execFileSync('unshare', ['-m', 'true'], { stdio: 'ignore' });
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
  } catch {
    return;
  }
  systemdAsk = async (text, name, value) => {
    const file = join(dir, 'os-release');
    await writeFile(file, text);
    const quoted = `"${name}=${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
    return new Promise((resolve) => {
      execFile(
        'unshare',
        [
          '-m',
          'sh',
          '-c',
          'mount --bind "$1" /etc/os-release && exec systemd-analyze condition "$2"',
          'sh',
          file,
          `ConditionOSRelease=${quoted}`,
        ],
        { timeout: 30_000 },
        (error, stdout, stderr) => {
          resolve(!error && /succeeded/.test(stdout + stderr));
        },
      );
    });
  };
});

test("systemd's own parser is asked, where the machine allows it", async (t) => {
  if (!systemdAsk) {
    t.skip('needs root, unshare and systemd-analyze');
    return;
  }
  assert.equal(await systemdAsk(`${P}=abc#def\n`, P, 'abc#def'), true);
  assert.equal(await systemdAsk(`${P}=abc#def\n`, P, 'abc'), false);
});

/** Lines read the same by both: what the job (and systemd) reads as the password. */
const same: [text: string, reads: string | undefined][] = [
  [`${P}=abc\n`, 'abc'],
  [`${P}="abc#def"\n`, 'abc#def'],
  [`${P}='abc#def'\n`, 'abc#def'],
  [`${P}=  spaced value  \n`, 'spaced value'],
  [`${P} = abc\n`, 'abc'],
  [`${P}='a\\b'\n`, 'a\\b'],
  [`${P}="a'b"\n`, "a'b"],
  [`${P}='a"b'\n`, 'a"b'],
  [`${P}=a'b"c\n`, 'a\'b"c'],
  [`${P}=x$y\`z\n`, 'x$y`z'],
  [`${P}=abc\r\nPUSHGATEWAY_USERNAME=u\r\n`, 'abc'],
  [`# comment\r\n${P}="abc#def"\r\n`, 'abc#def'],
  [`${P}='abc'  \t\n`, 'abc'],
  [`${P}=abc`, 'abc'],
  [`# ${P}=commented\n${P}=abc\n`, 'abc'],
  [`; a comment\n  # indented\n\n${P}=abc\n`, 'abc'],
  [`${P}=first\n${P}=second\n`, 'second'],
  [`${P}=\n`, undefined],
  // A comment ending in an even number of \, or in \ before \r\n (which escapes only the \r), hides nothing.
  [`# C:\\temp\\\\\n${P}=abc\n`, 'abc'],
  [`# C:\\temp\\\r\n${P}=abc\r\n`, 'abc'],
  [`\u00a0# not a comment to systemd \\\n${P}=abc\n`, 'abc'],
];

/** Lines the two would read differently: refused, naming the line. */
const differ: [text: string, line: number, why: RegExp][] = [
  [`${P}=abc#def\n`, 1, /read PUSHGATEWAY_PASSWORD differently: quote the value/],
  [`X=1\n${P}=abc #def\n`, 2, /read PUSHGATEWAY_PASSWORD differently/],
  [`${P}=a\\b\n`, 1, /read PUSHGATEWAY_PASSWORD differently/],
  [`${P}="a\\"b"\n`, 1, /read PUSHGATEWAY_PASSWORD differently/],
  [`${P}="a\\nb"\n`, 1, /read PUSHGATEWAY_PASSWORD differently/],
  [`${P}='abc' # note\n`, 1, /read PUSHGATEWAY_PASSWORD differently/],
  [`${P}=abc\\\ndef\n`, 1, /read PUSHGATEWAY_PASSWORD differently/],
  [`${P}="abc\n`, 1, /read PUSHGATEWAY_PASSWORD differently/],
  [`\n\nexport ${P}=abc\n`, 3, /would not set PUSHGATEWAY_PASSWORD: write NAME=value, without export/],
  [`${P}: abc\n`, 1, /would not set PUSHGATEWAY_PASSWORD/],
  [`${P}=abc\nmy-name=1\n`, 2, /takes no my-name: a name is letters, digits and _$/],
  [`# a comment \\\n${P}=abc\n`, 1, /a comment ending in \\ hides the next line from systemd before version 254/],
  [`; a comment \\\\\\\r${P}=abc\n`, 1, /a comment ending in \\ hides the next line from systemd before version 254/],
  [`\uFEFF${P}=abc\n`, 1, /starts with a byte-order mark/],
];

describe('lines both readers read the same: the job reads what systemd reads', () => {
  for (const [text, reads] of same) {
    test(JSON.stringify(text), async () => {
      assert.deepEqual(await jobReads(text), reads === undefined ? {} : { password: reads });
      assert.equal(systemdReading(text).found.get(P)?.value, reads ?? '');
      if (systemdAsk && reads) assert.ok(await systemdAsk(text, P, reads), `systemd does not read ${reads}`);
    });
  }
});

describe('lines the two would read differently: exit 2 naming the line, never the value', () => {
  for (const [text, line, why] of differ) {
    test(JSON.stringify(text), async () => {
      const { refused } = await jobReads(text);
      assert.ok(refused, 'read, not refused');
      assert.ok(refused.startsWith(`--env-file ${join(dir, 'job.env')} line ${line}:`), refused);
      assert.match(refused, why);
      assert.doesNotMatch(refused, /abc|a\\b|a"b/);
      // The refusal is needed: systemd does not read what dotenv reads.
      const byDotenv = parse(text.replace(/^\uFEFF/, ''))[P];
      if (systemdAsk && byDotenv && !/\n/.test(byDotenv) && refused.includes(P))
        assert.equal(await systemdAsk(text, P, byDotenv), false, `systemd reads ${byDotenv} too`);
    });
  }
});

test('the shipped .env.example means the same to both readers', () => {
  const text = readFileSync(`${repoRoot}.env.example`, 'utf8');
  const systemd = systemdReading(text).found;
  const dotenv = parse(text);
  assert.deepEqual(Object.fromEntries([...systemd].map(([name, { value }]) => [name, value])), dotenv);
});

test('bytes that are not UTF-8 are refused naming the line: systemd would refuse the whole file', async () => {
  const file = join(dir, 'latin1.env');
  await writeFile(file, Buffer.concat([Buffer.from(`X=1\n${P}=gr`), Buffer.from([0xfc]), Buffer.from('n\n')]));
  await assert.rejects(
    readCommand(['--env-file', file, '-t', '127.0.0.1:9', '--stdout'], {}, dir),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message ===
        `--env-file ${file} line 2: holds bytes that are not UTF-8, which systemd's EnvironmentFile= (the units) refuses: save the file as UTF-8`,
  );
});

test('a NUL byte is refused naming the line: systemd refuses the whole file ("Bad message")', async (t) => {
  const file = join(dir, 'nul.env');
  const text = `X=1\n${P}=abc\0\n`;
  await writeFile(file, text);
  await assert.rejects(
    readCommand(['--env-file', file, '-t', '127.0.0.1:9', '--stdout'], {}, dir),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message ===
        `--env-file ${file} line 2: holds a NUL byte (saved as UTF-16?), which systemd's EnvironmentFile= (the units) refuses: save the file as UTF-8`,
  );
  if (!systemdAsk) {
    t.skip('systemd not asked: needs root, unshare and systemd-analyze');
    return;
  }
  // The refusal is needed: systemd does not read the file at all, not even its first line.
  assert.equal(await systemdAsk(text, 'X', '1'), false);
  assert.equal(await systemdAsk('X=1\n', 'X', '1'), true);
});

/** `X=1` on line 1, then `line` on line 2, as bytes. */
const afterX = (line: string | Buffer) => Buffer.concat([Buffer.from('X=1\n'), Buffer.from(line), Buffer.from('\n')]);
/** The env file's verdict on `bytes`: what the job reads as the password, or its refusal. */
async function verdictOn(bytes: Buffer): Promise<{ password?: string; refused?: string }> {
  const file = join(dir, 'bytes.env');
  await writeFile(file, bytes);
  try {
    const command = await readCommand(['--env-file', file, '-t', '127.0.0.1:9', '-g', 'http://127.0.0.1:9'], {}, dir);
    return command.kind === 'run' ? { password: command.config.pushgateway?.password ?? '' } : {};
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return { refused: error.message };
  }
}

/** Every Unicode noncharacter: U+FDD0–U+FDEF and the last two code points of each of the 17 planes. */
const noncharacters = [
  ...Array.from({ length: 32 }, (_, index) => 0xfdd0 + index),
  ...Array.from({ length: 17 }, (_, plane) => [plane * 0x10000 + 0xfffe, plane * 0x10000 + 0xffff]).flat(),
];
const hex = (codePoint: number) => `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;

test('each of the 66 noncharacters in a value is refused naming the line, as systemd refuses the whole file', async (t) => {
  assert.equal(noncharacters.length, 66);
  for (const codePoint of noncharacters) {
    const { refused } = await verdictOn(afterX(`${P}=a${String.fromCodePoint(codePoint)}b`));
    assert.equal(
      refused,
      `--env-file ${join(dir, 'bytes.env')} line 2: holds a Unicode noncharacter (U+FDD0 to U+FDEF, or the last two ` +
        "of a plane such as U+FFFE), which systemd's EnvironmentFile= (the units) refuses as not UTF-8, and the " +
        'whole file with it: remove it',
      hex(codePoint),
    );
  }
  // In a name or a quoted value too: systemd checks both.
  for (const line of [`X\uFFFF=1`, `${P}='a\u{10FFFF}'`, `${P}="a\uFDD0"`])
    assert.match((await verdictOn(afterX(line))).refused ?? 'read', /line 2: holds a Unicode noncharacter/, line);
  if (!systemdAsk) {
    t.skip('systemd not asked: needs root, unshare and systemd-analyze');
    return;
  }
  // The refusal is needed: systemd reads not even the first line of such a file.
  for (const codePoint of [0xfdd0, 0xfdef, 0xfffe, 0xffff, 0x1fffe, 0x10ffff])
    assert.equal(await systemdAsk(afterX(`${P}=a${String.fromCodePoint(codePoint)}`), 'X', '1'), false, hex(codePoint));
});

test("what systemd reads is read: U+FFFD, the noncharacters' neighbours, a noncharacter or a stray byte in a comment", async (t) => {
  for (const codePoint of [0xfffd, 0xfdcf, 0xfdf0, 0x1fffd, 0x10fffd, 0xe000]) {
    const value = `a${String.fromCodePoint(codePoint)}b`;
    assert.deepEqual(await verdictOn(afterX(`${P}=${value}`)), { password: value }, hex(codePoint));
    if (systemdAsk) assert.ok(await systemdAsk(afterX(`${P}=${value}`), P, value), hex(codePoint));
  }
  const comments = [
    afterX(`# a\uFFFE note\n${P}=abc`),
    afterX(Buffer.concat([Buffer.from('# gr'), Buffer.from([0xfc]), Buffer.from(`n\n${P}=abc`)])),
  ];
  for (const bytes of comments) assert.deepEqual(await verdictOn(bytes), { password: 'abc' }, bytes.toString());
  if (!systemdAsk) {
    t.skip('systemd not asked: needs root, unshare and systemd-analyze');
    return;
  }
  for (const bytes of comments) assert.ok(await systemdAsk(bytes, P, 'abc'), bytes.toString());
});

test('malformed UTF-8 in a value (overlong, a surrogate, beyond U+10FFFF, cut short) is refused naming the line', async () => {
  const malformed = [
    [0xc0, 0xaf],
    [0xe0, 0x80, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xf8, 0x88, 0x80, 0x80, 0x80],
    [0xe2, 0x82],
  ];
  for (const bytes of malformed) {
    const { refused } = await verdictOn(
      afterX(Buffer.concat([Buffer.from(`${P}=a`), Buffer.from(bytes), Buffer.from('b')])),
    );
    assert.match(refused ?? 'read', /line 2: holds bytes that are not UTF-8/, String(bytes));
  }
});
