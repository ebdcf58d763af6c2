/**
 * A YAML tag in a targets file (`!!js/function`, `!foo`, `!!binary`) is refused in one line naming
 * where it is, without Node's warning line and without the tag's value being read as an address
 * (in-process: test/unit/targets-file.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/cli.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yaml-tags-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const tagged: [what: string, text: string, at: string][] = [
  ['!!js/function', "- targets: !!js/function 'function () { return [] }'\n", 'line 1'],
  ['a local tag on an address', '- targets: [!foo 127.0.0.1:9]\n', 'line 1'],
  ['a local tag on a label', "- targets: ['127.0.0.1:9']\n  labels: {site: !secret berlin}\n", 'line 2'],
  ['!!binary', '- targets: [!!binary aGVsbG8=]\n', 'line 1'],
];

for (const [what, text, at] of tagged) {
  test(`${what}: exit 2 in one line, no Node warning`, async () => {
    const file = join(dir, 'sticks.yml');
    await writeFile(file, text);
    const result = await runCli(['--targets-file', file, '--stdout', '--retries', '0']);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr,
      `trucki2pushgateway: --targets-file ${file}: uses a YAML tag at ${at}; a targets file holds lists, maps and strings only\n`,
    );
  });
}

test('!!str, the tag of what failsafe YAML reads anyway, is accepted', async () => {
  const file = join(dir, 'str.yml');
  await writeFile(file, "- targets: [!!str '127.0.0.1:9']\n  labels: {site: !!str berlin}\n");
  const result = await runCli(['--targets-file', file, '--stdout', '--retries', '0']);
  assert.equal(result.code, 69, result.stderr);
  assert.match(result.stderr, /^stick 127\.0\.0\.1:9: failed/m);
});
