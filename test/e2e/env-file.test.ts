/**
 * The env file means one thing to the job's --env-file (dotenv) and the units' EnvironmentFile=
 * (systemd): systemd's own parser is asked about the lines the unit tier's env-file.test.ts tries,
 * where the machine allows. `systemd-analyze condition ConditionOSRelease=` reads /etc/os-release
 * with the code EnvironmentFile= uses, and a private mount namespace puts the table's file there.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse } from 'dotenv';
import { afterX, differ, hex, P, same } from '../helpers/env-lines.js';

const dir = mkdtempSync(join(tmpdir(), 'env-file-'));
after(() => rm(dir, { recursive: true, force: true }));

/** Whether real systemd reads `name` as `value` from `text`; undefined where it cannot be asked. */
const systemdAsk = ((): ((text: string | Buffer, name: string, value: string) => Promise<boolean>) | undefined => {
  try {
    execFileSync('unshare', ['-m', 'true'], { stdio: 'ignore' });
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return async (text, name, value) => {
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
})();
const ask = systemdAsk!;
const skip = !systemdAsk && 'needs root, unshare and systemd-analyze';

describe("systemd's own parser", { skip }, () => {
  test('is asked, and tells a value it reads from one it does not', async () => {
    assert.equal(await ask(`${P}=abc#def\n`, P, 'abc#def'), true);
    assert.equal(await ask(`${P}=abc#def\n`, P, 'abc'), false);
  });

  test('reads as the job reads the lines both readers read the same', async () => {
    for (const [text, reads] of same) if (reads) assert.ok(await ask(text, P, reads), `systemd does not read ${reads}`);
  });

  test('does not read what dotenv reads from the lines the job refuses: the refusal is needed', async () => {
    for (const [text, , why] of differ) {
      const byDotenv = parse(text.replace(/^\uFEFF/, ''))[P];
      if (byDotenv && !/\n/.test(byDotenv) && why.source.includes(P))
        assert.equal(await ask(text, P, byDotenv), false, `systemd reads ${byDotenv} too`);
    }
  });

  test('reads not even the first line of a file with a NUL byte', async () => {
    assert.equal(await ask(`X=1\n${P}=abc\0\n`, 'X', '1'), false);
    assert.equal(await ask('X=1\n', 'X', '1'), true);
  });

  test('reads not even the first line of a file with a noncharacter in a value', async () => {
    for (const codePoint of [0xfdd0, 0xfdef, 0xfffe, 0xffff, 0x1fffe, 0x10ffff])
      assert.equal(await ask(afterX(`${P}=a${String.fromCodePoint(codePoint)}`), 'X', '1'), false, hex(codePoint));
  });

  test("reads U+FFFD, the noncharacters' neighbours, and past a noncharacter or a stray byte in a comment", async () => {
    for (const codePoint of [0xfffd, 0xfdcf, 0xfdf0, 0x1fffd, 0x10fffd, 0xe000]) {
      const value = `a${String.fromCodePoint(codePoint)}b`;
      assert.ok(await ask(afterX(`${P}=${value}`), P, value), hex(codePoint));
    }
    const comments = [
      afterX(`# a\uFFFE note\n${P}=abc`),
      afterX(Buffer.concat([Buffer.from('# gr'), Buffer.from([0xfc]), Buffer.from(`n\n${P}=abc`)])),
    ];
    for (const bytes of comments) assert.ok(await ask(bytes, P, 'abc'), bytes.toString());
  });
});
