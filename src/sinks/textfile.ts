/**
 * All sticks in one file for node_exporter's textfile collector, told apart by a `stick` label
 * (`instance` would clash with node_exporter's own). Written beside it and renamed over it, so the
 * collector never reads half a file; only a regular file is replaced, never a device or a link.
 */
import { constants } from 'node:fs';
import { chmod, lstat, open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { jobFamilies } from '../catalogue.js';
import { expositionText, labelSetKey, parseSampleLine } from '../exposition.js';
import { stickIdentity, type Grouping, type Target } from '../config/types.js';
import type { Sample } from '../parse.js';
import { kindOf } from '../bounded-file.js';
import { errnoCode, SinkFailure } from '../errors.js';
import { oneWriter, type Discard, type Recall, type Sink, type SinkKind } from './sink.js';

export const textfile: SinkKind = {
  name: 'node_exporter textfile',
  choose: ({ textfile: path, schedule }) =>
    path !== undefined ? { endpoints: [], create: () => textfileSink(path, schedule !== undefined) } : undefined,
};

/** `loop`: written as readings come (see oneWriter); else once, at close, with every stick's. */
export function textfileSink(path: string, loop: boolean): Sink & Recall & Discard {
  // Every stick's latest samples, with its own labels (from a targets file), by stickIdentity: a
  // write while only some sticks are read still writes them all.
  const latest = new Map<string, { readonly instance: string; readonly samples: readonly Sample[] }>();
  const writer = oneWriter(() => write(path, latest), loop);
  return {
    lastSuccesses: async (targets) => {
      const text = (await readRegularFile(path)) ?? '';
      // A stick's own line only: the same instance with other labels was another stick.
      const wanted = new Map(targets.map((target) => [labelSetKey(fileLabels(target)), target.instance]));
      const found = new Map<string, number>();
      const name = jobFamilies.lastSuccess.name;
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`)) continue;
        const sample = parseSampleLine(line.slice(name.length));
        const instance = sample && wanted.get(labelSetKey(sample.labels));
        if (instance !== undefined && Number.isFinite(sample?.value)) found.set(instance, sample!.value);
      }
      return found;
    },
    deliver: ({ target, samples }) => {
      const own = Object.fromEntries(target.labels);
      latest.set(stickIdentity(target), {
        instance: target.instance,
        samples: samples.map((sample) => ({ ...sample, labels: { ...own, ...sample.labels } })),
      });
      return Promise.resolve(writer.take());
    },
    discard: (target) => {
      latest.delete(stickIdentity(target));
    },
    close: writer.close,
  };
}

/** Every stick's latest samples, into the file, replaced whole. Throws a SinkFailure. */
async function write(
  path: string,
  latest: ReadonlyMap<string, { readonly instance: string; readonly samples: readonly Sample[] }>,
) {
  refuseUnlessRegular(path, await existingKind(path));
  const samples = [...latest.values()].flatMap(({ instance, samples: members }) =>
    members.map((sample) => ({ ...sample, labels: { stick: instance, ...sample.labels } })),
  );
  const text = await expositionText(samples);
  // Not *.prom: the collector ignores the temp file while it is being written.
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    // Made anew, never opened as found: a named pipe left at that name would hang the write.
    await rm(temp, { force: true });
    await writeFile(temp, text, { flag: 'wx' });
    // Readable by node_exporter, another user, whatever the umask (the units' is 0077): it
    // holds no secret. A mode given at creation would be cut by the umask.
    await chmod(temp, 0o644);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    fail(path, 'written', error);
  }
}

/** The labels a stick's job samples have in the file. */
const fileLabels = (target: Target): Grouping => [['stick', target.instance], ...target.labels];

/** The file as the job last wrote it, for its last successes: more than this is not the job's. */
const maxRecallBytes = 64 * 1024 * 1024;

/**
 * The file's text, undefined when there is none; refused unless a regular file. Opened without
 * blocking or following a link, and checked once open: a named pipe swapped in would hang the run.
 */
async function readRegularFile(path: string): Promise<string | undefined> {
  let file: FileHandle;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    // A link (ELOOP) or a socket (ENXIO) cannot be opened so: say what it is, as the write does.
    refuseUnlessRegular(path, await existingKind(path));
    return fail(path, 'read', error);
  }
  try {
    const stats = await file.stat();
    refuseUnlessRegular(path, kindOf(stats));
    if (stats.size > maxRecallBytes)
      throw new SinkFailure(`textfile ${path} is larger than ${maxRecallBytes / 1024 / 1024} MiB: not read`);
    return await file.readFile('utf8');
  } catch (error) {
    if (error instanceof SinkFailure) throw error;
    return fail(path, 'read', error);
  } finally {
    await file.close();
  }
}

function fail(path: string, what: string, error: unknown): never {
  throw new SinkFailure(`textfile ${path} could not be ${what} (${errnoCode(error) ?? String(error)})`);
}

/** Only ever a regular file is read or replaced, never a device, a link or a directory someone pointed us at. */
function refuseUnlessRegular(path: string, kind: string | undefined): void {
  if (kind !== undefined) throw new SinkFailure(`textfile ${path} is a ${kind}, not a regular file: not replaced`);
}

async function existingKind(path: string): Promise<string | undefined> {
  return kindOf(await lstat(path).catch(() => undefined));
}
