/**
 * Loaded with --import by test/unit-alone.sh: in a test file's process (node --test runs each file
 * in one, with NODE_TEST_CONTEXT set) every way of starting a child process throws, saying what was
 * started. A unit test is logic in-process; one that needs a program belongs in test/e2e/. The
 * runner's own process, which starts the test files, is left alone.
 */
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

const starters = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;

if (process.env.NODE_TEST_CONTEXT) {
  for (const name of starters) {
    Object.defineProperty(childProcess, name, {
      value: (file: unknown, args?: unknown) => {
        const command = [file, ...(Array.isArray(args) ? (args as unknown[]) : [])].map(String).join(' ');
        throw new Error(`a unit test started a process (${name} ${command}): it belongs in test/e2e/`);
      },
      writable: true,
      configurable: true,
    });
  }
  // Named imports (import { execFile } from 'node:child_process') see the replacements too.
  syncBuiltinESMExports();
}
