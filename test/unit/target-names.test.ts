/**
 * name= in --target: a name may be a host:port, the instance an exporter's scrape target had (the
 * migration guide tells a trucki2prometheus user to keep it), while user info without http:// is
 * never taken for a name.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readCommand } from '../../src/config/load.js';
import type { Target } from '../../src/config/types.js';

let cwd: string;
before(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'trucki-target-names-'));
});
after(() => rm(cwd, { recursive: true, force: true }));

async function targets(target: string): Promise<readonly Target[]> {
  const command = await readCommand(['--target', target, '--stdout'], {}, cwd);
  assert.equal(command.kind, 'run');
  return command.config.targets;
}

test('a host:port name becomes the instance, and the address after it is read', async () => {
  const [target] = await targets('192.168.1.50:8080=127.0.0.1:9');
  assert.equal(target!.instance, '192.168.1.50:8080');
  assert.equal(target!.url.host, '127.0.0.1:9');
});

test('host:port names in a list: a host name, an IPv6 address, and a plain name beside them', async () => {
  const list = await targets('pi.lan:8080=127.0.0.1:9,[fd00::5]:8080=http://127.0.0.1:10,roof=127.0.0.1:11');
  assert.deepEqual(
    list.map(({ instance, url }) => [instance, url.host]),
    [
      ['pi.lan:8080', '127.0.0.1:9'],
      ['[fd00::5]:8080', '127.0.0.1:10'],
      ['roof', '127.0.0.1:11'],
    ],
  );
});

test('user info without http:// is not a name: "admin:123=pw@host" keeps its password out of the instance', async () => {
  const [target] = await targets('admin:123=pw@127.0.0.1:9');
  assert.equal(target!.instance, '127.0.0.1:9');
  assert.equal(target!.username, 'admin');
  assert.equal(target!.password, '123=pw');
});
