/**
 * Reading a file the user names or the job keeps: only a regular file, up to a bound. Opened without blocking
 * and checked on the descriptor, so a named pipe never hangs the job and /dev/zero is never read.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { ConfigError, errnoCode } from './errors.js';

/** A secret or a CA bundle is a few KiB; the env file a few hundred lines. */
export const smallFileBytes = 1024 * 1024;
/** A fleet's targets file: some 100 bytes a stick, so room for many thousands of sticks. */
export const targetsFileBytes = 16 * 1024 * 1024;

/**
 * The file's bytes, or a ConfigError starting with `what` that never quotes the content. A file the job
 * `kept` in its cache directory is read only if no link, this user's and writable by nobody else (as ~/.ssh).
 */
export function readBoundedBytes(path: string, what: string, maxBytes: number, kept = false): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (kept ? constants.O_NOFOLLOW : 0));
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new ConfigError(`${what} is not a regular file (a ${kindOf(stats) ?? 'special file'})`);
    if (kept && (stats.uid !== process.geteuid?.() || stats.mode & 0o022))
      throw new ConfigError(`${what} is not this user's alone: not read`);
    const tooLarge = () => new ConfigError(`${what} is larger than ${maxBytes / 1024 / 1024} MiB: not read`);
    if (stats.size > maxBytes) throw tooLarge();
    // Read until the end, not to the size seen (a file being written grows), one byte past the bound to tell a
    // file at it from one beyond; the first chunk fits the size seen: one read for a file that is not growing.
    const chunks: Buffer[] = [];
    let length = 0;
    for (let read = -1; read !== 0 && length <= maxBytes; length += read) {
      const chunk = Buffer.allocUnsafe(Math.min(maxBytes + 1 - length, Math.max(stats.size + 1 - length, 64 * 1024)));
      read = readSync(fd, chunk, 0, chunk.length, null);
      chunks.push(chunk.subarray(0, read));
    }
    if (length > maxBytes) throw tooLarge();
    return Buffer.concat(chunks, length);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    // A Unix socket cannot be opened at all (ENXIO): say what it is rather than the errno.
    const kind = errnoCode(error) === 'ENXIO' ? kindOf(statSync(path, { throwIfNoEntry: false })) : undefined;
    if (kind) throw new ConfigError(`${what} is not a regular file (a ${kind})`);
    throw new ConfigError(`${what} cannot be read (${errnoCode(error) ?? 'error'})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** As readBoundedBytes, the text. */
export const readBoundedFile = (...args: Parameters<typeof readBoundedBytes>) =>
  readBoundedBytes(...args).toString('utf8');

/** What a file that is not a regular file is, in words ("named pipe"); undefined for a regular file or none. */
export function kindOf(stats: Stats | undefined): string | undefined {
  if (!stats || stats.isFile()) return undefined;
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symbolic link';
  if (stats.isFIFO()) return 'named pipe';
  if (stats.isCharacterDevice()) return 'character device';
  return stats.isBlockDevice() ? 'block device' : 'socket';
}
