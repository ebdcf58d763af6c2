/** The documentation keeps up with the code: every setting and every metric is written down. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { allFamilies } from '../../src/catalogue.js';
import { optionSpecs, type OptionSpec } from '../../src/config/options.js';
import { repoRoot } from '../helpers/paths.js';

const readme = readFileSync(`${repoRoot}README.md`, 'utf8');
const envExample = readFileSync(`${repoRoot}.env.example`, 'utf8');
const specs = Object.values(optionSpecs as Record<string, OptionSpec>);

test('.env.example sets or shows every environment variable', () => {
  const missing = specs.flatMap((spec) =>
    spec.env && !new RegExp(`^#?${spec.env}=`, 'm').test(envExample) ? [spec.env] : [],
  );
  assert.deepEqual(missing, []);
});

test('.env.example, read as an env file, is a valid configuration', async () => {
  const { readCommand } = await import('../../src/config/load.js');
  const command = await readCommand(['--env-file', `${repoRoot}.env.example`], {});
  assert.equal(command.kind, 'run');
});

test('the README names every flag and every environment variable', () => {
  const documented = (name: string) => new RegExp(`(\`|, )${name}\\b`).test(readme);
  const missing = specs.flatMap((spec) =>
    [spec.flag && `--${spec.flag}`, spec.env].filter((name): name is string => Boolean(name) && !documented(name!)),
  );
  assert.deepEqual(missing, []);
});

test("the README's metric table lists every metric the job can push", () => {
  const missing = allFamilies.map((family) => family.name).filter((name) => !readme.includes(`| \`${name}\` |`));
  assert.deepEqual(missing, []);
});

test("the README's test command is what CI runs, near the top, before any contributor material", () => {
  const testCommand = readme.indexOf('npm run test:fresh');
  assert.ok(testCommand > 0 && testCommand < readme.indexOf('## Install'), 'the test command stands before Install');
  assert.ok(readme.split('\n').length <= 300, `the README has ${readme.split('\n').length} lines`);
  assert.match(readme, /```sh\n(?:.*\n)*?npm run test:fresh\b.*\n(?:.*\n)*?```/);
  assert.match(readFileSync(`${repoRoot}.ci/run`, 'utf8'), /^npm run test:fresh$/m);
});

test('--help, the README and sinks/sink.ts list the sinks of the registry, no more, no fewer', async () => {
  const { sinkKinds } = await import('../../src/sinks/registry.js');
  const { helpText } = await import('../../src/config/help.js');
  const sinkModule = readFileSync(`${repoRoot}src/sinks/sink.ts`, 'utf8').replace(/\n \* /g, ' ');
  const names = sinkKinds.map(({ name }) => name);
  const lists = {
    '--help': [helpText(), 'delivers its readings (to ', ')'],
    README: [readme, 'delivers them to one of ', ', and exits'],
    'src/sinks/sink.ts': [sinkModule, 'A kind of sink (', ')'],
  } as const;
  for (const [where, [text, start, end]] of Object.entries(lists)) {
    const flat = text.replace(/\s+/g, ' ');
    const from = flat.indexOf(start);
    assert.ok(from >= 0, `${where} has no list of sinks after "${start}"`);
    const items = flat.slice(from + start.length, flat.indexOf(end, from + start.length)).split(/, | or /);
    assert.deepEqual(
      items.map((item) => names.filter((name) => item.includes(name))),
      names.map((name) => [name]),
      `${where} lists the sinks ${JSON.stringify(items)}`,
    );
  }
});

test("CONTRIBUTING's table of where a test goes names every test file there is, and none that is not", () => {
  const contributing = readFileSync(`${repoRoot}CONTRIBUTING.md`, 'utf8');
  const table = contributing.slice(
    contributing.indexOf('### Where a test goes'),
    contributing.indexOf('### What a test must be'),
  );
  const named = [...table.matchAll(/`([\w*.-]+\.test\.ts)`/g)].map(([, name]) => name!);
  const files = ['unit', 'e2e'].flatMap((tier) =>
    readdirSync(`${repoRoot}test/${tier}`).filter((file) => file.endsWith('.test.ts')),
  );
  const matches = (pattern: string, file: string) =>
    new RegExp(`^${pattern.replace(/\./g, '\\.').replace(/\*/g, '[\\w-]+')}$`).test(file);
  assert.deepEqual(
    files.filter((file) => !named.some((pattern) => matches(pattern, file))),
    [],
    'test files the table does not name',
  );
  assert.deepEqual(
    named.filter((pattern) => !files.some((file) => matches(pattern, file))),
    [],
    'names in the table that match no test file',
  );
});
