/**
 * What the tests that install the Debian package share: when they can run, apt-get's settings, one
 * such test per machine at a time, and a leftover installation purged.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runOk } from './clean-clone.js';
import { npmEnv } from './npm-env.js';
import { onlyOnce } from './once.js';

export const packageName = 'trucki2pushgateway';

/** Why a test that installs the package cannot run here, or false. */
export function whyNoDpkg(): string | false {
  if (onlyOnce) return onlyOnce;
  if (process.getuid?.() !== 0) return 'needs root: it installs and purges a Debian package';
  if (!existsSync('/usr/bin/dpkg')) return 'dpkg is missing: not a Debian machine';
  return false;
}

export interface AptMachine {
  /** npm's environment (npmEnv) and APT_CONFIG; no DEBIAN_FRONTEND, which a caller adds if it wants one. */
  readonly env: Record<string, string>;
  /** apt-get purge of the package if it is installed or its configuration is left. */
  readonly purge: () => Promise<void>;
  /** Purges, lets the next test have the machine and removes the apt configuration. */
  readonly release: () => Promise<void>;
}

/**
 * Takes the machine for one test: the package and the dpkg database are the machine's, so flock(1)
 * holds a lock file until its stdin closes (waiting up to `timeoutSeconds` for another such test,
 * which may take minutes: the suite runs them side by side), and apt-get waits up to 5 min for the
 * dpkg lock held by anything else instead of failing. Purges what an interrupted earlier run left.
 */
export async function takeMachine(timeoutSeconds = 540): Promise<AptMachine> {
  const aptConfig = join(tmpdir(), `trucki-deb-test-apt-${process.pid}.conf`);
  await writeFile(aptConfig, 'DPkg::Lock::Timeout "300";\n');
  // The README's commands run npm too: it keeps what the caller's npm needs (proxy, CA).
  const env = npmEnv({ APT_CONFIG: aptConfig });
  const unlock = await machineLock('/run/lock/trucki2pushgateway-deb-test.lock', timeoutSeconds);
  const purge = async () => {
    const status = await run('dpkg-query', ['-W', '-f', '${db:Status-Status}', packageName]);
    if (status.code === 0 && status.stdout !== 'not-installed')
      await runOk('apt-get', ['purge', '-y', '-q', packageName], {
        env: { ...env, DEBIAN_FRONTEND: 'noninteractive' },
      });
  };
  await purge();
  return {
    env,
    purge,
    release: async () => {
      await purge().catch(() => undefined);
      unlock();
      await rm(aptConfig, { force: true });
    },
  };
}

function machineLock(path: string, timeoutSeconds: number): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const holder = spawn(
      'flock',
      ['-w', String(timeoutSeconds), path, 'sh', '-c', 'echo locked; exec cat >/dev/null'],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    holder.on('error', reject);
    holder.on('exit', (code) => {
      reject(new Error(`no lock on ${path} within ${String(timeoutSeconds)} s (flock exited ${String(code)})`));
    });
    holder.stdout.once('data', () => {
      resolve(() => {
        holder.stdin.end();
      });
    });
  });
}
