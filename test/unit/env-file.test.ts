/**
 * The env file means one thing: the job's --env-file (dotenv) and the units' EnvironmentFile=
 * (systemd) read the same file. Each line of the table is either read the same by both (and the
 * job reads what systemd does, by config/env-file.ts's reading of systemd's rules) or refused,
 * naming the line and the variable, never the value. systemd's own parser is asked about the same
 * lines in the e2e tier's env-file.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'dotenv';
import { readCommand } from '../../src/config/load.js';
import { systemdReading } from '../../src/config/env-file.js';
import { ConfigError } from '../../src/errors.js';
import { afterX, differ, hex, noncharacters, P, same } from '../helpers/env-lines.js';
import { repoRoot } from '../helpers/paths.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'env-file-'));
});
after(() => rm(dir, { recursive: true, force: true }));

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

describe('lines both readers read the same: the job reads what systemd reads', () => {
  for (const [text, reads] of same) {
    test(JSON.stringify(text), async () => {
      assert.deepEqual(await jobReads(text), reads === undefined ? {} : { password: reads });
      assert.equal(systemdReading(text).found.get(P)?.value, reads ?? '');
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

test('a NUL byte is refused naming the line: systemd refuses the whole file ("Bad message")', async () => {
  const file = join(dir, 'nul.env');
  await writeFile(file, `X=1\n${P}=abc\0\n`);
  await assert.rejects(
    readCommand(['--env-file', file, '-t', '127.0.0.1:9', '--stdout'], {}, dir),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message ===
        `--env-file ${file} line 2: holds a NUL byte (saved as UTF-16?), which systemd's EnvironmentFile= (the units) refuses: save the file as UTF-8`,
  );
});

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

test('each of the 66 noncharacters in a value is refused naming the line, as systemd refuses the whole file', async () => {
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
});

test("what systemd reads is read: U+FFFD, the noncharacters' neighbours, a noncharacter or a stray byte in a comment", async () => {
  for (const codePoint of [0xfffd, 0xfdcf, 0xfdf0, 0x1fffd, 0x10fffd, 0xe000]) {
    const value = `a${String.fromCodePoint(codePoint)}b`;
    assert.deepEqual(await verdictOn(afterX(`${P}=${value}`)), { password: value }, hex(codePoint));
  }
  const comments = [
    afterX(`# a\uFFFE note\n${P}=abc`),
    afterX(Buffer.concat([Buffer.from('# gr'), Buffer.from([0xfc]), Buffer.from(`n\n${P}=abc`)])),
  ];
  for (const bytes of comments) assert.deepEqual(await verdictOn(bytes), { password: 'abc' }, bytes.toString());
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
