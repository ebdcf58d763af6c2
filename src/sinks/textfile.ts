/**
 * All sticks in one file for node_exporter's textfile collector, told apart by a `stick` label
 * (`instance` would clash with the label Prometheus gives node_exporter). Written to a temp file
 * beside it and renamed over it, so the collector never reads half a file; only ever a regular
 * file is replaced, never a device, a link or a directory someone pointed us at.
 */
import { chmod, lstat, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { jobFamilies } from '../catalogue.js';
import { expositionText, parseSampleLine } from '../exposition.js';
import type { Sample } from '../parse.js';
import { errnoCode, SinkFailure } from '../errors.js';
import type { Sink, SinkKind } from './sink.js';

export const textfile: SinkKind = {
  name: 'node_exporter textfile',
  words: { delivered: 'written to the textfile', atFlush: true },
  choose: ({ textfile: path }) =>
    path !== undefined
      ? { endpoints: [], words: { delivered: `written to ${path}`, atFlush: true }, create: () => textfileSink(path) }
      : undefined,
};

export function textfileSink(path: string): Sink {
  // Every stick's latest samples, with its own labels (from a targets file): a loop tick that reads
  // only some sticks still writes them all.
  const latest = new Map<string, readonly Sample[]>();
  const fail =
    (what: string) =>
    (error: unknown): never => {
      throw new SinkFailure(`textfile ${path} could not be ${what} (${errnoCode(error) ?? String(error)})`);
    };
  return {
    lastSuccesses: async (targets) => {
      const text = await readFile(path, 'utf8').catch((error: unknown) =>
        errnoCode(error) === 'ENOENT' ? '' : fail('read')(error),
      );
      const wanted = new Set(targets.map(({ instance }) => instance));
      const found = new Map<string, number>();
      const name = jobFamilies.lastSuccess.name;
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`)) continue;
        const sample = parseSampleLine(line.slice(name.length));
        const stick = sample?.labels.find(([label]) => label === 'stick')?.[1];
        if (sample && stick !== undefined && wanted.has(stick) && Number.isFinite(sample.value))
          found.set(stick, sample.value);
      }
      return found;
    },
    deliver: ({ target, samples }) => {
      const own = Object.fromEntries(target.labels);
      latest.set(
        target.instance,
        samples.map((sample) => ({ ...sample, labels: { ...own, ...sample.labels } })),
      );
      return Promise.resolve();
    },
    flush: async () => {
      const kind = await existingKind(path);
      if (kind !== undefined && kind !== 'regular file') {
        throw new SinkFailure(`textfile ${path} is a ${kind}, not a regular file: not replaced`);
      }
      const samples = [...latest].flatMap(([stick, members]) =>
        members.map((sample) => ({ ...sample, labels: { stick, ...sample.labels } })),
      );
      const text = await expositionText(samples);
      // Not *.prom: the collector ignores the temp file while it is being written.
      const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
      try {
        await writeFile(temp, text);
        // Readable by node_exporter, another user, whatever the umask (the units' is 0077): it
        // holds no secret. A mode given at creation would be cut by the umask.
        await chmod(temp, 0o644);
        await rename(temp, path);
      } catch (error) {
        await rm(temp, { force: true });
        fail('written')(error);
      }
    },
  };
}

async function existingKind(path: string): Promise<string | undefined> {
  const stats = await lstat(path).catch(() => undefined);
  if (!stats) return undefined;
  if (stats.isFile()) return 'regular file';
  if (stats.isSymbolicLink()) return 'symbolic link';
  if (stats.isDirectory()) return 'directory';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'device';
  return stats.isFIFO() ? 'named pipe' : 'socket';
}
