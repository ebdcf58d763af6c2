/** The simulator's own command line (`npm run simulator`, dist/simulator.js), as a user starts it (issue 9.15). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { simulatorBundle } from '../helpers/paths.js';

const simulator = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [simulatorBundle, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // A serving simulator announces itself: that is all this test needs from it.
      if (/serving/.test(stderr)) child.kill('SIGTERM');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

describe("the simulator's command line", { concurrency: true }, () => {
  test('an IPv6 host is announced as http://[::1]:port', async () => {
    const result = await simulator(['--host', '::1', '--port', '0']);
    assert.match(result.stderr, /http:\/\/\[::1\]:\d+/);
  });

  test('--help prints the usage and exits 0', async () => {
    const result = await simulator(['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout + result.stderr, /usage/i);
    assert.doesNotMatch(result.stderr, /serving/);
  });

  test('an unknown flag is exit 2', async () => {
    const result = await simulator(['--bogus']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /bogus/);
  });
});
