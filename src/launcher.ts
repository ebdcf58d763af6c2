/**
 * What users run: dist/trucki2pushgateway.js, built from this file as CommonJS by esbuild.config.mjs.
 * It starts dist/program.js with V8's compiled code of it from an earlier start, made on this
 * machine by this very Node, so that a one-shot start does not compile the program again. Nothing
 * compiled is ever shipped. The code is V8's code cache of the program as a vm.Script, taken at
 * the exit of a run, so with every function that run compiled, in the cache directory
 * (src/cache-dir.ts). Node's own compile cache (Node >= 22.1) keeps only what compiling the file
 * made, before it ran, and saves half as much (bench/README.md); the launcher does not turn it on,
 * since its default place is the temp directory, which every user can write (NODE_COMPILE_CACHE
 * still turns it on in Node itself). A cache is code this Node runs: one that others could have
 * written (a directory src/cache-dir.ts refuses, a file not this user's alone) is never taken. That,
 * and a cache that is missing, stale, another Node's, corrupt, a link or not a regular file, or a
 * directory that cannot be written, cost speed, not the run's result.
 */
import { readFileSync } from 'node:fs';
import nodeModule from 'node:module';
import { join } from 'node:path';
import { debuglog } from 'node:util';
import { readBoundedBytes } from './bounded-file.js';
import { cacheDirectory } from './cache-dir.js';
import { replaceFile } from './replace-file.js';
import { escapeControl, obeyedByTerminals } from './terminal-text.js';

/** Set by esbuild.config.mjs: a digest of dist/program.js, so that a new build never takes an old cache. */
declare const __PROGRAM_DIGEST__: string;

/** NODE_DEBUG=trucki-code-cache says what became of the cache (as NODE_DEBUG_NATIVE=COMPILE_CACHE does for Node's). */
const debug = debuglog('trucki-code-cache');

/** V8's code of the program is some 400 KiB; anything far larger is not ours. */
const cacheBytes = 16 * 1024 * 1024;

type Crc32 = (data: Uint8Array) => number;

const program = join(__dirname, 'program.js');
// Built-ins that only one path needs are required there, not imported for all.
const requireHere = nodeModule.createRequire(__filename);
// Only a run of the job looks for the directory: `check`, --help and --version leave nothing in it.
const dir = runsTheJob(process.argv.slice(2)) ? cacheDirectory(process.env, say) : undefined;
// node:zlib's crc32 (Node >= 20.15): loading zlib costs about a millisecond, compiling the program far more.
const crc32 = dir ? (requireHere('node:zlib') as { crc32?: Crc32 }).crc32 : undefined;
if (dir && crc32) startWithCodeCache(dir, crc32);
else requireHere(program);

/** One line on stderr, as the program logs: control characters shown, not obeyed. */
function say(line: string): void {
  process.stderr.write(`${line.replace(obeyedByTerminals, escapeControl)}\n`);
}

/**
 * The program compiled with V8's code cache from the last start when it is sound, else compiled
 * afresh, and then its code kept at exit for the next start. V8 checks a cache's version, flags
 * and source length itself, but not its content: a cache whose bytes changed would crash Node, so
 * the file carries a CRC-32 of it (Node's own compile cache does the same), and is read only as a
 * regular file of bounded size that is no symbolic link and this user's alone.
 */
function startWithCodeCache(dir: string, crc32: Crc32): void {
  const file = join(dir, `program-${process.version}-${process.arch}.v8cache`);
  const stamp = `trucki2pushgateway ${__PROGRAM_DIGEST__} ${process.version} ${process.arch} crc32=`;
  const cached = soundCache(file, stamp, crc32);
  const { Script } = requireHere('node:vm') as typeof import('node:vm');
  // The CommonJS wrapper, on the program's first line so that its line numbers stay as they are.
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(program, 'utf8')}\n})`;
  const script = new Script(source, { filename: program, ...(cached && { cachedData: cached }) });
  debug(
    `code cache for ${program} was ` +
      (!cached ? 'missing or unsound' : script.cachedDataRejected ? 'rejected' : 'accepted'),
  );
  if (!cached || script.cachedDataRejected) {
    process.once('exit', () => {
      keepCache(file, stamp, crc32, () => script.createCachedData());
    });
  }
  const module = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void)(
    module.exports,
    nodeModule.createRequire(program),
    module,
    program,
    __dirname,
  );
}

/**
 * Whether this start runs the job, whose code the cache is for: a start that only prints the help
 * or the version compiles little of it, and its cache would stay in place of a better one; `check`
 * looks and changes nothing. (A short option inside a group, say -hV, is not seen: a run's cache is
 * then taken or kept.)
 */
function runsTheJob(args: readonly string[]): boolean {
  return args[0] !== 'check' && !args.some((arg) => ['-h', '--help', '-V', '--version'].includes(arg));
}

/** The cache's bytes, if the file is there, a regular file, stamped for this program and Node, and whole. */
function soundCache(file: string, stamp: string, crc32: Crc32): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readBoundedBytes(file, 'the code cache', cacheBytes, true);
  } catch {
    return undefined;
  }
  const lineEnd = bytes.indexOf(10);
  if (lineEnd < 0 || bytes.toString('latin1', 0, stamp.length) !== stamp) return undefined;
  const data = bytes.subarray(lineEnd + 1);
  return bytes.toString('latin1', stamp.length, lineEnd) === String(crc32(data)) ? data : undefined;
}

/** Replaced whole (src/replace-file.ts), so that a start never reads half a file. */
function keepCache(file: string, stamp: string, crc32: Crc32, code: () => Buffer): void {
  let data: Buffer;
  try {
    data = code();
  } catch {
    return;
  }
  if (replaceFile(file, Buffer.concat([Buffer.from(`${stamp}${crc32(data)}\n`, 'latin1'), data])))
    debug(`code cache written to ${file}`);
}
