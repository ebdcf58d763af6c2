/**
 * Every npm the suite starts keeps what the caller's npm needs to reach the registry (a proxy, a
 * CA, npm's own config): on a machine behind a TLS-intercepting proxy, an npm started with only
 * PATH and HOME fails with SELF_SIGNED_CERT_IN_CHAIN.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runOk } from '../helpers/clean-clone.js';
import { npmEnv } from '../helpers/npm-env.js';

test('a real npm started with npmEnv reads a npm_config_ variable the caller set', async () => {
  const env = npmEnv(
    {},
    { ...process.env, npm_config_fetch_retries: '7', npm_config_https_proxy: 'http://127.0.0.1:9' },
  );
  const retries = await runOk('npm', ['config', 'get', 'fetch-retries'], { env, timeout: 60_000 });
  assert.equal(retries.stdout.trim(), '7');
  const proxy = await runOk('npm', ['config', 'get', 'https-proxy'], { env, timeout: 60_000 });
  assert.equal(proxy.stdout.trim(), 'http://127.0.0.1:9');
});
