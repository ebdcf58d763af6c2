/**
 * What users run (dist/trucki2pushgateway.js, CommonJS): it starts dist/program.js with V8's code cache of it,
 * taken in the cache directory at the exit of an earlier run by this very Node. Node's own compile cache saves
 * half as much (bench/README.md) and defaults to the temp directory, which every user can write: not turned on.
 * A cache others could have written is never taken; a missing or unsound one costs speed, not the result.
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
// Only a run of the job, whose code the cache is for, looks for the directory: `check` looks and
// changes nothing, and --help or --version compile little, so their cache would stay in place of a
// better one. (A short option in a group, say -hV, is not seen: a run's cache is taken or kept.)
const args = process.argv.slice(2);
const runsTheJob = args[0] !== 'check' && !args.some((arg) => ['-h', '--help', '-V', '--version'].includes(arg));
// Its one line on stderr as the program logs: control characters shown, not obeyed.
const say = (line: string) => process.stderr.write(`${line.replace(obeyedByTerminals, escapeControl)}\n`);
const dir = runsTheJob ? cacheDirectory(process.env, say) : undefined;
// node:zlib's crc32 (Node >= 20.15): loading zlib costs about a millisecond, compiling the program far more.
const crc32 = dir ? (requireHere('node:zlib') as { crc32?: Crc32 }).crc32 : undefined;
if (dir && crc32) startWithCodeCache(dir, crc32);
else requireHere(program);

/**
 * The program with V8's code cache of the last start when sound, else compiled afresh and its code kept at exit.
 * V8 checks a cache's version, flags and source length, not its content: changed bytes would crash Node, so
 * the file carries a CRC-32 of it (as Node's own compile cache does).
 */
function startWithCodeCache(dir: string, crc32: Crc32): void {
  const file = join(dir, `program-${process.version}-${process.arch}.v8cache`);
  const stamp = `trucki2pushgateway ${__PROGRAM_DIGEST__} ${process.version} ${process.arch} crc32=`;
  const cached = soundCache(file, stamp, crc32);
  const { Script } = requireHere('node:vm') as typeof import('node:vm');
  // The CommonJS wrapper, on the program's first line so that its line numbers stay as they are.
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(program, 'utf8')}\n})`;
  const script = new Script(source, { filename: program, ...(cached && { cachedData: cached }) });
  const sound = cached && !script.cachedDataRejected;
  debug(`code cache for ${program} was ${sound ? 'accepted' : cached ? 'rejected' : 'missing or unsound'}`);
  if (!sound) {
    process.once('exit', () => {
      try {
        const data = script.createCachedData();
        // Replaced whole (src/replace-file.ts), so that a start never reads half a file.
        if (replaceFile(file, Buffer.concat([Buffer.from(`${stamp}${crc32(data)}\n`, 'latin1'), data])))
          debug(`code cache written to ${file}`);
      } catch {
        // No cache this time: the next start compiles afresh.
      }
    });
  }
  const module = { exports: {} };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(module.exports, nodeModule.createRequire(program), module, program, __dirname);
}

/** The cache's bytes, if the file is there, a regular file, stamped for this program and Node, and whole. */
function soundCache(file: string, stamp: string, crc32: Crc32): Buffer | undefined {
  try {
    const bytes = readBoundedBytes(file, 'the code cache', cacheBytes, true);
    const lineEnd = bytes.indexOf(10);
    const data = bytes.subarray(lineEnd + 1);
    const whole = lineEnd >= 0 && bytes.toString('latin1', 0, stamp.length) === stamp;
    return whole && bytes.toString('latin1', stamp.length, lineEnd) === String(crc32(data)) ? data : undefined;
  } catch {
    return undefined;
  }
}
