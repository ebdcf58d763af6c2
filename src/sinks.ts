/**
 * Where a run's metrics go: the Pushgateway (one group per stick, replaced each run), standard
 * output, or one file for node_exporter's textfile collector. A sink also tells when a stick was
 * last read successfully, since a failed read must carry that over and the job itself may not
 * remember (a one-shot run remembers nothing).
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ExtendOptions } from 'got';
import { jobFamilies } from './catalogue.js';
import type { Config, Pushgateway, Target } from './config.js';
import { basicAuth, createClient, describeFailure, type Agents, type HttpPolicy } from './http.js';
import { buildRegistry } from './metrics.js';
import type { Sample } from './parse.js';
import { deleteGroup, pushGroup, readGroupValue, type Grouping } from './push.js';

export interface Sink {
  /** The last success this sink holds for the stick; throws a SinkFailure when it cannot tell. */
  readonly recall: (target: Target) => Promise<number | undefined>;
  /** Delivers (or collects) one stick's samples; throws a SinkFailure. */
  readonly deliver: (target: Target, samples: readonly Sample[]) => Promise<void>;
  /** After every stick of a run was delivered; throws a SinkFailure. */
  readonly flush: () => Promise<void>;
  /** The word for a delivered stick in its log line, where delivery is per stick. */
  readonly verb?: string;
  /** Removes the stick's metrics for good (--delete-on-exit). */
  readonly remove?: (target: Target) => Promise<void>;
}

/** A failure of the sink, in words that name it and hold no credential. */
export class SinkFailure extends Error {
  override readonly name = 'SinkFailure';
}

export function createSink(config: Config, policy: HttpPolicy, agents: Agents, print: (text: string) => void): Sink {
  if (config.pushgateway) return pushgatewaySink(config.pushgateway, policy, agents);
  if (config.textfile) return textfileSink(config.textfile);
  return stdoutSink(config.targets, print);
}

function pushgatewaySink(pushgateway: Pushgateway, policy: HttpPolicy, agents: Agents): Sink {
  const client = createClient(policy, agents, pushgatewayAuth(pushgateway));
  const { url } = pushgateway;
  const groupingOf = (target: Target): Grouping => [['job', pushgateway.job], ['instance', target.instance], ...pushgateway.grouping];
  const failure = (context: string) => (error: unknown): never => {
    throw new SinkFailure(`Pushgateway ${url.href} ${describeFailure(error, policy)}${context}`);
  };
  return {
    verb: 'pushed',
    // Pushing without it would erase the last success the Pushgateway holds: better not push.
    recall: (target) => readGroupValue(client, url, groupingOf(target), jobFamilies.lastSuccess.name)
      .catch(failure(' when asked for the last success; not pushed, to keep it')),
    deliver: async (target, samples) => {
      const text = await buildRegistry(samples).metrics();
      await pushGroup(client, url, groupingOf(target), text).catch(failure(''));
    },
    flush: async () => {},
    remove: (target) => deleteGroup(client, url, groupingOf(target)).catch(failure('')),
  };
}

function pushgatewayAuth(pushgateway: Pushgateway): ExtendOptions {
  return {
    ...basicAuth(pushgateway),
    ...(pushgateway.bearerToken !== undefined && { headers: { authorization: `Bearer ${pushgateway.bearerToken}` } }),
    ...(pushgateway.ca !== undefined && { https: { certificateAuthority: pushgateway.ca } }),
  };
}

/** What would be pushed, stick by stick, in the order the sticks were given. */
function stdoutSink(targets: readonly Target[], print: (text: string) => void): Sink {
  const texts = new Map<string, string>();
  return {
    recall: async () => undefined,
    deliver: async (target, samples) => { texts.set(target.instance, await buildRegistry(samples).metrics()); },
    flush: async () => {
      print(targets.map(({ instance }) => `# stick ${instance}\n${texts.get(instance) ?? ''}`).join('\n'));
      texts.clear();
    },
  };
}

/**
 * All sticks in one file, told apart by a `stick` label (`instance` would clash with the label
 * Prometheus gives node_exporter). Written to a temp file beside it and renamed over it, so the
 * collector never reads half a file.
 */
function textfileSink(path: string): Sink {
  const collected = new Map<string, readonly Sample[]>();
  const fail = (what: string) => (error: unknown): never => {
    throw new SinkFailure(`textfile ${path} could not be ${what} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  };
  return {
    recall: async (target) => {
      const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? '' : fail('read')(error)));
      const prefix = `${jobFamilies.lastSuccess.name}{stick="${escapeLabelValue(target.instance)}"} `;
      const line = text.split('\n').find((candidate) => candidate.startsWith(prefix));
      const value = Number(line?.slice(prefix.length));
      return line && Number.isFinite(value) ? value : undefined;
    },
    deliver: async (target, samples) => { collected.set(target.instance, samples); },
    flush: async () => {
      const samples = [...collected].flatMap(([stick, members]) => members.map((sample) => ({ ...sample, labels: { stick, ...sample.labels } })));
      collected.clear();
      const text = await buildRegistry(samples).metrics();
      // Not *.prom: the collector ignores the temp file while it is being written.
      const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
      try {
        await writeFile(temp, text, { mode: 0o644 });
        await rename(temp, path);
      } catch (error) {
        await rm(temp, { force: true });
        fail('written')(error);
      }
    },
  };
}

/** As the exposition format escapes label values. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
