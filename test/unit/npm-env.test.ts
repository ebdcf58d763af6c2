/**
 * Every npm the suite starts keeps what the caller's npm needs to reach the registry (a proxy, a
 * CA, npm's own config), and nothing of the job's settings: the environment npmEnv builds, and that
 * every npm or npx call of the suite and the benchmarks takes it. A real npm reading it: the e2e
 * tier's npm-env.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { npmEnv } from '../helpers/npm-env.js';
import { repoRoot } from '../helpers/paths.js';

test("npmEnv keeps the caller's proxy, CA and npm config, and leaves the job's settings out", () => {
  const kept = {
    PATH: '/opt/node/bin:/usr/bin',
    HOME: '/home/dev',
    HTTPS_PROXY: 'http://127.0.0.1:3128',
    https_proxy: 'http://127.0.0.1:3128',
    NO_PROXY: '127.0.0.1',
    NODE_EXTRA_CA_CERTS: '/etc/corp-ca.pem',
    npm_config_cafile: '/etc/corp-ca.pem',
    NPM_CONFIG_REGISTRY: 'http://127.0.0.1:4873/',
  };
  const left = {
    npm_config_local_prefix: '/work/repo',
    npm_lifecycle_event: 'test',
    npm_package_name: 'trucki2pushgateway',
    PUSHGATEWAY_URL: 'http://pg.example:9091',
    TRUCKI_TARGET: '192.0.2.1',
  };
  const extra = { DEBIAN_FRONTEND: 'noninteractive' };
  assert.deepEqual(npmEnv(extra, { ...kept, ...left }), { ...kept, ...extra });
});

/** The text of each call that starts npm or npx, from the opening parenthesis to its match. */
function npmCalls(source: string): string[] {
  const calls: string[] = [];
  for (const match of source.matchAll(/\(\s*'np[mx]'\s*,/g)) {
    let depth = 0;
    let end = match.index;
    for (; end < source.length; end++) {
      if ('([{'.includes(source[end]!)) depth++;
      if (')]}'.includes(source[end]!) && --depth === 0) break;
    }
    calls.push(source.slice(match.index, end + 1));
  }
  return calls;
}

test('every npm or npx the suite and the benchmarks start gets its environment from npmEnv', () => {
  const files = ['test/unit', 'test/e2e', 'test/helpers', 'bench'].flatMap((dir) =>
    readdirSync(`${repoRoot}${dir}`)
      .filter((name) => /\.(ts|mjs)$/.test(name) && name !== 'npm-env.test.ts')
      .map((name) => `${dir}/${name}`),
  );
  const found: string[] = [];
  const wrong: string[] = [];
  for (const file of files) {
    const source = readFileSync(`${repoRoot}${file}`, 'utf8');
    // `env` alone means the file's own `const env`, which must be npmEnv's too.
    const sharedEnv = /^const env = npmEnv\(/m.test(source);
    for (const call of npmCalls(source)) {
      found.push(file);
      const env = /\benv(?:\s*:\s*([^,}\n]+))?/.exec(call);
      const fromNpmEnv = env && (env[1] === undefined ? sharedEnv : /^npmEnv\(/.test(env[1].trim()));
      if (!fromNpmEnv) wrong.push(`${file}: ${call.replace(/\s+/g, ' ').slice(0, 120)}`);
    }
  }
  assert.ok(found.length >= 5, `only ${found.length} npm calls found: has the way they are written changed?`);
  assert.deepEqual(wrong, []);
});
