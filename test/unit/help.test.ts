/**
 * The --help text is product text: compared to the letter with test/golden/help.txt.
 * After a deliberate change, write the golden file anew and read its diff before committing:
 *   npm run build && UPDATE_GOLDEN=1 node --test build/test/unit/help.test.js
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { helpText } from '../../src/config/help.js';
import { optionSpecs } from '../../src/config/options.js';
import { repoRoot } from '../helpers/paths.js';

const golden = `${repoRoot}test/golden/help.txt`;

test('--help prints the golden text, to the letter', () => {
  if (process.env.UPDATE_GOLDEN) writeFileSync(golden, `${helpText()}\n`);
  assert.equal(`${helpText()}\n`, readFileSync(golden, 'utf8'));
});

test('--help is at most 100 columns wide', () => {
  const wide = helpText()
    .split('\n')
    .filter((line) => line.length > 100);
  assert.deepEqual(wide, []);
});

test('every option line of --help is read as an option: its flag, short flag, argument, variable and *', () => {
  assert.deepEqual(optionSpecs['target'], {
    flag: 'target',
    short: 't',
    arg: '[name=]address,…',
    env: 'TRUCKI_TARGET',
    repeatable: true,
    file: true,
  });
  assert.deepEqual(optionSpecs['PUSHGATEWAY_CA_FILE'], {
    flag: undefined,
    short: undefined,
    arg: undefined,
    env: 'PUSHGATEWAY_CA_FILE',
    repeatable: false,
    file: false,
  });
  const optionLines = helpText()
    .split('\n')
    .filter((line) => /^ {2}[-A-Z]/.test(line));
  assert.equal(Object.keys(optionSpecs).length, optionLines.length);
  assert.deepEqual(
    Object.values(optionSpecs).flatMap(({ flag, repeatable }) => (repeatable ? [flag] : [])),
    ['target', 'grouping'],
  );
});
