/**
 * The targets file on disk: read once for a one-shot run (any error is a ConfigError, exit 2), and
 * for a loop read again whenever it changes (size or mtime), keeping the previous sticks when the
 * new text is invalid. The YAML parser is loaded once, when the file is YAML, so that re-reading
 * is synchronous and can happen on a loop's tick.
 */
import { statSync } from 'node:fs';
import { readBoundedFile, targetsFileBytes } from '../bounded-file.js';
import { parseEndpoint, withStickAuth } from '../config/values.js';
import type { Target, TargetsFileSpec } from '../config/types.js';
import { ConfigError, TargetsFileError } from '../errors.js';
import { formatOf, loadParser, targetsFrom } from './file.js';

export interface TargetsFile {
  /** For messages: "--targets-file sticks.yml". */
  readonly name: string;
  /** The sticks the file names now; throws a ConfigError naming the entry. */
  readonly read: () => Target[];
  /** Whether the file looks different (size, mtime, inode) from when it was last read, and how it looked. */
  readonly changed: () => boolean;
  readonly readStamp: () => string;
}

/** The file of `spec`, as last read at `spec.readStamp` (a loop opening again what the start read). */
export async function openTargetsFile({ path, name, auth, grouping, readStamp = '' }: TargetsFileSpec) {
  const format = formatOf(path);
  if (!format) throw new ConfigError(`${name} must end in .json, .yml or .yaml, as Prometheus' file_sd files do`);
  const parse = await loadParser(format);
  const reserved = new Set(grouping);
  const toEndpoint = (address: string, where: string) =>
    parseEndpoint({ value: address, source: where }, 'stick', true);
  let seen = readStamp;
  const stamp = () => {
    try {
      const { size, mtimeMs, ino } = statSync(path);
      return `${size}/${mtimeMs}/${ino}`;
    } catch {
      return 'missing';
    }
  };
  const file: TargetsFile = {
    name,
    changed: () => stamp() !== seen,
    readStamp: () => seen,
    read: () => {
      seen = stamp();
      // A named pipe or a device would block or never end: only a regular file is read.
      const text = readBoundedFile(path, name, targetsFileBytes).replace(/^\uFEFF/, '');
      try {
        const targets = withStickAuth(targetsFrom(parse(text), toEndpoint, reserved), auth);
        // An empty file is most often one being rewritten: never "every stick removed".
        if (targets.length === 0) throw new TargetsFileError('names no stick');
        return targets;
      } catch (error) {
        if (error instanceof TargetsFileError || error instanceof ConfigError)
          throw new ConfigError(`${name}: ${error.message}`);
        throw error;
      }
    },
  };
  return file;
}
