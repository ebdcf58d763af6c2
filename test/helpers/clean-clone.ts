/**
 * A clean clone of the project as it is now: a fresh git repository holding the files of this
 * working tree that git would commit (tracked and untracked, minus .gitignore'd: no node_modules,
 * dist/, build/ or .cache/), committed once. So a test can pack, build or install from what a user
 * would clone, including changes not yet committed here.
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { errnoCode } from '../../src/errors.js';
import { repoRoot } from './paths.js';

const execFileAsync = promisify(execFile);

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to its end; never rejects for a non-zero exit (the caller asserts the code). */
export async function run(file: string, args: readonly string[], options: ExecFileOptions = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(file, args, {
      timeout: 180_000,
      maxBuffer: 64 * 1024 * 1024,
      encoding: 'utf8',
      ...options,
    });
    return { code: 0, stdout: String(stdout), stderr: String(stderr) };
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { code?: number | string; stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') throw error;
    return {
      code: typeof failure.code === 'number' ? failure.code : 1,
      stdout: failure.stdout ?? '',
      stderr: `${failure.stderr ?? ''}${failure.message}`,
    };
  }
}

/** Throws, with the program's output, unless it exited 0. */
export async function runOk(file: string, args: readonly string[], options: ExecFileOptions = {}): Promise<Run> {
  const result = await run(file, args, options);
  if (result.code !== 0)
    throw new Error(`${file} ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

export interface CleanClone {
  /** The clone's working tree. */
  readonly dir: string;
  /** A git URL of it (file://), as `npm install -g git+file://…` takes. */
  readonly url: string;
  readonly remove: () => Promise<void>;
}

const git = (dir: string, ...args: string[]) =>
  runOk('git', ['-c', 'user.name=test', '-c', 'user.email=test@localhost', '-c', 'commit.gpgsign=false', ...args], {
    cwd: dir,
  });

export async function cleanClone(): Promise<CleanClone> {
  const top = await mkdtemp(join(tmpdir(), 'trucki-clone-'));
  const origin = join(top, 'origin');
  const dir = join(top, 'clone');
  const { stdout } = await runOk('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
  });
  await mkdir(origin);
  for (const file of stdout.split('\0').filter(Boolean)) {
    await mkdir(dirname(join(origin, file)), { recursive: true });
    // A file deleted in the working tree but still in the index is not part of what would be committed.
    await cp(join(repoRoot, file), join(origin, file), { preserveTimestamps: true }).catch((error: unknown) => {
      if (errnoCode(error) !== 'ENOENT') throw error;
    });
  }
  await git(origin, 'init', '-q', '-b', 'main');
  await git(origin, 'add', '-A');
  await git(origin, 'commit', '-q', '-m', 'the working tree under test');
  await git(top, 'clone', '-q', `file://${origin}`, dir);
  return { dir, url: `git+file://${origin}`, remove: () => rm(top, { recursive: true, force: true }) };
}
