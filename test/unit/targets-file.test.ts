/** The targets file (Prometheus file_sd) into sticks: JSON and YAML, every entry checked. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TargetsFileError } from '../../src/errors.js';
import { formatOf, parseTargetsFile, type EndpointParser } from '../../src/targets/file.js';
import { parseEndpoint } from '../../src/config/values.js';

/** As the job reads a file's addresses: never quoting one, which may hold a password. */
const endpoint: EndpointParser = (address, where) => parseEndpoint({ value: address, source: where }, 'stick', true);
const parse = (text: string, format: 'json' | 'yaml' = 'json') => parseTargetsFile(text, format, endpoint);
const simple = async (text: string, format: 'json' | 'yaml' = 'json') =>
  (await parse(text, format)).map(({ url, instance, labels, username, password }) => ({
    url: url.href,
    instance,
    labels,
    username,
    password,
  }));

async function rejects(text: string, message: RegExp, format: 'json' | 'yaml' = 'json'): Promise<string> {
  let error: unknown;
  await parse(text, format).catch((caught: unknown) => {
    error = caught;
  });
  assert.ok(error instanceof TargetsFileError, `expected a TargetsFileError for ${text}, got ${String(error)}`);
  assert.match(error.message, message);
  return error.message;
}

describe('targets file', () => {
  test('format by extension, as Prometheus', () => {
    assert.equal(formatOf('/etc/trucki/sticks.json'), 'json');
    assert.equal(formatOf('sticks.yml'), 'yaml');
    assert.equal(formatOf('sticks.YAML'), 'yaml');
    assert.equal(formatOf('sticks.txt'), undefined);
  });

  test('JSON: instance names the stick, other labels go with every target of the entry', async () => {
    const text = JSON.stringify([
      { targets: ['192.168.1.50'], labels: { instance: 'roof', site: 'berlin' } },
      { targets: ['10.0.0.7:8081', 'http://10.0.0.8'], labels: { site: 'hamburg', owner: 'co-op' } },
      { targets: ['10.0.0.9'] },
    ]);
    assert.deepEqual(await simple(text), [
      {
        url: 'http://192.168.1.50/',
        instance: 'roof',
        labels: [['site', 'berlin']],
        username: undefined,
        password: undefined,
      },
      {
        url: 'http://10.0.0.7:8081/',
        instance: '10.0.0.7:8081',
        labels: [
          ['site', 'hamburg'],
          ['owner', 'co-op'],
        ],
        username: undefined,
        password: undefined,
      },
      {
        url: 'http://10.0.0.8/',
        instance: '10.0.0.8',
        labels: [
          ['site', 'hamburg'],
          ['owner', 'co-op'],
        ],
        username: undefined,
        password: undefined,
      },
      { url: 'http://10.0.0.9/', instance: '10.0.0.9', labels: [], username: undefined, password: undefined },
    ]);
  });

  test('YAML reads as JSON, unquoted numbers and words as strings (as Go fills string fields)', async () => {
    const yaml = `
# a comment
- targets: [192.168.1.50]
  labels:
    instance: roof
    floor: 3
    heated: yes
- targets:
    - http://admin:s3cret@10.0.0.7:8081
`;
    const targets = await simple(yaml, 'yaml');
    assert.deepEqual(targets, [
      {
        url: 'http://192.168.1.50/',
        instance: 'roof',
        labels: [
          ['floor', '3'],
          ['heated', 'yes'],
        ],
        username: undefined,
        password: undefined,
      },
      { url: 'http://10.0.0.7:8081/', instance: '10.0.0.7:8081', labels: [], username: 'admin', password: 's3cret' },
    ]);
  });

  test('empty YAML file or list: no sticks; an empty label value: no label, as in Prometheus', async () => {
    assert.deepEqual(await simple('', 'yaml'), []);
    assert.deepEqual(await simple('[]'), []);
    assert.deepEqual((await simple('[{"targets":["a"],"labels":{"site":""}}]'))[0]!.labels, []);
  });

  test('each kind of bad entry is refused, naming the entry and what is wrong', async () => {
    await rejects('{"targets":["a"]}', /must be a list of/);
    await rejects('[{"targets":["a"]}, "b"]', /^entry 2: is not an object/);
    await rejects('[{"targets":"a"}]', /^entry 1: targets must be a list of addresses/);
    await rejects('[{"targets":[1]}]', /^entry 1: targets must be a list/);
    await rejects('[{"targets":["a"],"label":{}}]', /^entry 1: has unknown key "label"/);
    await rejects('[{"targets":["a"],"labels":["x"]}]', /^entry 1: labels must be a map/);
    await rejects('[{},{"targets":["a"],"labels":{"1site":"x"}}]', /^entry 2: "1site" is not a valid label name/);
    await rejects(
      '[{"targets":["a"],"labels":{"__scheme__":"https"}}]',
      /^entry 1: label "__scheme__": names starting with __ are reserved/,
    );
    await rejects('[{"targets":["a"],"labels":{"job":"x"}}]', /^entry 1: label "job" is used by the job itself/);
    await rejects('[{"targets":["a"],"labels":{"site":3}}]', /^entry 1: label "site" must have a string value/);
    await rejects(
      '[{"targets":["a","b"],"labels":{"instance":"roof"}}]',
      /^entry 1: labels.instance names one stick, but the entry lists 2 targets/,
    );
    await rejects(
      '[{"targets":["a"],"labels":{"instance":"x"}},{"targets":["b"],"labels":{"instance":"x"}}]',
      /^entry 2: instance "x" is already taken by entry 1/,
    );
    await rejects('[{"targets":["ftp://a"]}]', /^entry 1 must be an http or https URL$/);
    await rejects('[{"targets":["a","ftp://b"]}]', /^entry 1, target 2 must be an http or https URL$/);
  });

  test('syntax errors say where, in JSON and in YAML', async () => {
    await rejects('[{"targets": ["a"],}]', /^is not valid JSON( \(line 1(, column \d+)?\))?$/);
    await rejects('- targets: [a\n  labels: {', /^is not valid YAML \(bad indent\) at line 2, column 3$/, 'yaml');
    await rejects(
      '- targets: [a]\n  targets: [b]\n',
      /^is not valid YAML \(duplicate key\) at line 2, column 3$/,
      'yaml',
    );
  });

  test('no error quotes a credential from a target URL', async () => {
    const secret = 'hunter2,xyz';
    const messages = [
      await rejects(`[{"targets":["http://admin:${secret}@10.0.0.7:bad"]}]`, /^entry 1 is not a valid stick address/),
      await rejects(
        `[{"targets":["http://admin:${secret}@a", "http://admin:${secret}@b"],"labels":{"instance":"x"}}]`,
        /instance/,
      ),
      await rejects(
        `[{"targets":["http://admin:${secret}@a"]},{"targets":["http://admin:${secret}@a"]}]`,
        /already taken/,
      ),
      await rejects(`[{"targets": ["http://admin:${secret}@a"]},]`, /JSON/),
      await rejects(`- targets: ["http://admin:${secret}@a"]\n  labels: {`, /YAML/, 'yaml'),
    ];
    for (const message of messages) assert.doesNotMatch(message, /hunter2/);
  });

  test('parsing a tagged file emits no process warning', async () => {
    const warnings: string[] = [];
    const listener = (warning: Error) => warnings.push(warning.message);
    process.on('warning', listener);
    try {
      await assert.rejects(
        parseTargetsFile('- targets: [!foo 127.0.0.1:9]\n', 'yaml', () => {
          throw new Error('the tagged value must not reach the address parser');
        }),
        TargetsFileError,
      );
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listener);
    }
    assert.deepEqual(warnings, []);
  });
});
