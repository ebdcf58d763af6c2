/**
 * promtool accepts what the catalogue produces: every /jsonlive row's samples, and the golden
 * expositions of a reading of each kind of stick (test/golden/, test/unit/golden.test.ts).
 * The catalogue's own conventions are tested in-process: test/unit/catalogue.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { liveCatalogue } from '../../src/catalogue.js';
import { expositionText } from '../../src/exposition.js';
import { readPayload } from '../../src/parse.js';
import { fullPayload } from '../helpers/catalogue-payload.js';
import { repoRoot } from '../helpers/paths.js';

const promtool = '/usr/bin/promtool';

function checkMetrics(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(promtool, ['check', 'metrics'], { timeout: 30_000 }, (error, stdout, stderr) => {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- is an Error; Omit<> type hides it
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: stdout + stderr });
    });
    child.stdin!.end(text);
  });
}

const texts: Record<string, () => Promise<string> | string> = {
  'the exposition text of every row': () => expositionText(readPayload(fullPayload(), liveCatalogue).samples),
  'the golden exposition of a T2SG': () => readFileSync(`${repoRoot}test/golden/exposition-T2SG.prom`, 'utf8'),
  'the golden exposition of a T2MG': () => readFileSync(`${repoRoot}test/golden/exposition-T2MG.prom`, 'utf8'),
};

for (const [what, text] of Object.entries(texts)) {
  test(`promtool check metrics accepts ${what}`, async (t) => {
    if (!existsSync(promtool)) {
      t.skip('promtool is not installed (Debian package prometheus)');
      return;
    }
    const result = await checkMetrics(await text());
    assert.equal(result.output, '', `promtool says:\n${result.output}`);
    assert.equal(result.code, 0);
  });
}
