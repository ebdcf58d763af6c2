/**
 * The cache directory (src/cache-dir.ts) and the files in it are used only if nobody but this user
 * and root could have changed them, as OpenSSH's StrictModes does for ~/.ssh: what is read there is
 * run (V8's code) or believed (a stick's identity, the forget stamp). In-process, as root (the
 * suite's user here): "another user" is uid 65534, files chowned to it.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cacheDirectory } from '../../src/cache-dir.js';
import type { Target } from '../../src/config/types.js';
import { createIdentityCache, identityFile } from '../../src/identity-cache.js';
import { oncePayload } from '../../src/simulator/payload.js';

const other = 65534;
let root: string;
before(() => {
  // mkdtemp: 0700, this user's, in the sticky temp directory.
  root = mkdtempSync(join(tmpdir(), 'trucki-cache-dir-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

let made = 0;
/** A fresh directory under the test's own, `mode`, owned by `uid`. */
function dirOf(mode = 0o700, uid = process.geteuid!(), parent = root): string {
  const path = join(parent, `d${String(++made)}`);
  mkdirSync(path);
  chmodSync(path, mode);
  chownSync(path, uid, uid);
  return path;
}

/** cacheDirectory() with `env`, and what it said. */
function lookUp(env: NodeJS.ProcessEnv): { dir: string | undefined; said: string[] } {
  const said: string[] = [];
  return { dir: cacheDirectory(env, (line) => said.push(line)), said };
}

describe('the cache directory', () => {
  test("this user's, writable by nobody else: used, silently", () => {
    const dir = dirOf(0o755);
    assert.deepEqual(lookUp({ CACHE_DIRECTORY: dir }), { dir, said: [] });
    // Made by the job in a sticky directory others can write (XDG_CACHE_HOME=/tmp-like): ours alone.
    const sticky = dirOf(0o1777);
    const made = join(sticky, 'trucki2pushgateway');
    assert.deepEqual(lookUp({ XDG_CACHE_HOME: sticky }), { dir: made, said: [] });
    assert.equal(statSync(made).mode & 0o777, 0o700);
  });

  test("systemd's DynamicUser= layout: a link of another owner to the unit's own directory under private/", () => {
    // /var/cache/NAME -> private/NAME: what counts is the directory the link leads to, not the link.
    const varCache = dirOf(0o755);
    const own = dirOf(0o755, process.geteuid!(), dirOf(0o755, 0, varCache));
    const link = join(varCache, 'trucki2pushgateway');
    symlinkSync(own, link);
    lchownSync(link, other, other);
    assert.deepEqual(lookUp({ CACHE_DIRECTORY: link }), { dir: link, said: [] });
  });

  const refused: [string, () => NodeJS.ProcessEnv, RegExp][] = [
    ["another user's", () => ({ CACHE_DIRECTORY: dirOf(0o700, other) }), /owned by uid 65534, not by this user/],
    ['writable by its group', () => ({ CACHE_DIRECTORY: dirOf(0o2770) }), /writable by others \(mode 2770\)/],
    ['a shared sticky directory itself', () => ({ CACHE_DIRECTORY: dirOf(0o1777) }), /writable by others/],
    [
      'ours, in a directory everyone can write without the sticky bit (ours can be swapped)',
      () => ({ CACHE_DIRECTORY: dirOf(0o700, process.geteuid!(), dirOf(0o777)) }),
      /others can write/,
    ],
    [
      "ours, in another user's directory",
      () => ({ CACHE_DIRECTORY: dirOf(0o700, process.geteuid!(), dirOf(0o755, other)) }),
      /is owned by uid 65534/,
    ],
    [
      "trucki2pushgateway/ made in advance by another user in XDG_CACHE_HOME's sticky directory",
      () => {
        const sticky = dirOf(0o1777);
        mkdirSync(join(sticky, 'trucki2pushgateway'));
        chownSync(join(sticky, 'trucki2pushgateway'), other, other);
        return { XDG_CACHE_HOME: sticky };
      },
      /owned by uid 65534/,
    ],
    [
      "another user's link in a sticky directory to a directory of ours (the link can be swapped)",
      () => {
        const sticky = dirOf(0o1777);
        const link = join(sticky, 'cache');
        symlinkSync(dirOf(0o700), link);
        lchownSync(link, other, other);
        return { CACHE_DIRECTORY: link };
      },
      /cache" is owned by uid 65534/,
    ],
  ];
  for (const [what, env, why] of refused) {
    test(`${what}: not used, said in one line`, () => {
      const { dir, said } = lookUp(env());
      assert.equal(dir, undefined);
      assert.equal(said.length, 1, said.join('\n'));
      assert.match(said[0]!, /^trucki2pushgateway: not using the cache directory "[^"\n]+": /);
      assert.match(said[0]!, why);
    });
  }

  test("another user's HOME (sudo without -H): refused before anything is made in it", () => {
    const home = dirOf(0o755, other);
    const { dir, said } = lookUp({ HOME: home });
    assert.equal(dir, undefined);
    assert.match(
      said.join('\n'),
      /^trucki2pushgateway: not using the cache directory "[^"]+": "[^"]+" is owned by uid 65534$/,
    );
    assert.deepEqual(readdirSync(home), []);
  });

  test('none there and none to be made: no cache, nothing said (a system user without a home)', () => {
    assert.deepEqual(lookUp({ HOME: '/nonexistent/home' }), { dir: undefined, said: [] });
    assert.deepEqual(lookUp({}), { dir: undefined, said: [] });
  });
});

describe("a file in the cache directory that is not this user's alone", () => {
  const target: Target = { url: new URL('http://127.0.0.1:9/'), instance: 'roof', labels: [] };
  const kept = () => {
    const dir = dirOf();
    const cache = createIdentityCache(dir);
    cache.keep(target, oncePayload('T2SG'));
    cache.save();
    return join(dir, identityFile);
  };
  const recalled = (path: string) => createIdentityCache(join(path, '..')).recall(target) !== undefined;

  test('the identity cache as written is recalled (the cases below are live)', () => {
    assert.ok(recalled(kept()));
  });

  for (const [what, spoil] of [
    [
      "another user's",
      (path: string) => {
        chownSync(path, other, other);
      },
    ],
    [
      'writable by its group',
      (path: string) => {
        chmodSync(path, 0o620);
      },
    ],
    [
      'writable by everyone',
      (path: string) => {
        chmodSync(path, 0o606);
      },
    ],
  ] as const) {
    test(`${what}: not believed, and replaced by this user's own at the next save`, () => {
      const path = kept();
      spoil(path);
      const cache = createIdentityCache(join(path, '..'));
      assert.equal(cache.recall(target), undefined, 'a file others could write was believed');
      cache.keep(target, oncePayload('T2SG'));
      cache.save();
      const { uid, mode } = statSync(path);
      assert.deepEqual([uid, mode & 0o777], [process.geteuid!(), 0o600]);
    });
  }
});
