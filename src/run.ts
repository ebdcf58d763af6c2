/**
 * One run: every stick read concurrently, each into its own fresh registry, each pushed (or
 * printed) on its own, so that one failing stick or push holds up nothing else.
 */
import type { Got } from 'got';
import { jobFamilies, liveCatalogue } from './catalogue.js';
import type { Config, Target } from './config.js';
import { fetchStick } from './fetch.js';
import { createAgents, createClient, describeFailure, destroyAgents, type HttpPolicy } from './http.js';
import { buildRegistry } from './metrics.js';
import { parsePayload, readPayload, type Sample } from './parse.js';
import { deleteGroup, pushGroup, type Grouping } from './push.js';

export interface Io {
  /** One line for the operator (stderr). */
  readonly log: (line: string) => void;
  /** Exposition text for --stdout. */
  readonly print: (text: string) => void;
}

/** Resolves to true when every stick was read and its metrics delivered. */
export type Run = () => Promise<boolean>;

export interface Job {
  readonly run: Run;
  /** Removes every stick's group from the Pushgateway, for --delete-on-exit. */
  readonly deleteGroups: () => Promise<void>;
  /** Closes the kept-alive connections, so that the process can end. */
  readonly close: () => void;
}

interface StickRead {
  readonly samples: Sample[];
  readonly problems: string[];
  /** Why the stick could not be read, in words: "timed out after 5 s". */
  readonly failure?: string;
}

export function createJob(config: Config, io: Io): Job {
  const policy: HttpPolicy = { timeoutMs: config.timeoutMs, retries: config.retries };
  const agents = createAgents();
  const stickClient = createClient(policy, agents);
  const pushClient = config.pushgateway && createClient(policy, agents, {
    ...(config.pushgateway.username !== undefined && { username: config.pushgateway.username }),
    ...(config.pushgateway.password !== undefined && { password: config.pushgateway.password }),
  });

  async function runStick(target: Target): Promise<{ ok: boolean; text: string }> {
    const started = performance.now();
    const read = await readStick(stickClient, target, config.maxBodyBytes, policy);
    const seconds = (performance.now() - started) / 1000;
    const samples = [
      { family: jobFamilies.up, labels: {}, value: read.failure ? 0 : 1 },
      { family: jobFamilies.scrapeDuration, labels: {}, value: seconds },
      ...read.samples,
    ];
    const text = await buildRegistry(samples).metrics();
    let pushFailure: string | undefined;
    if (pushClient && config.pushgateway) {
      try {
        await pushGroup(pushClient, config.pushgateway.url, groupingOf(target), text);
      } catch (error) {
        pushFailure = `Pushgateway ${config.pushgateway.url.href} ${describeFailure(error, policy)}`;
      }
    }
    io.log(summary(target, read, seconds, pushFailure, Boolean(pushClient)));
    return { ok: !read.failure && !pushFailure, text };
  }

  const groupingOf = (target: Target): Grouping =>
    [['job', config.pushgateway!.job], ['instance', target.instance], ...config.pushgateway!.grouping];

  async function run(): Promise<boolean> {
    const results = await Promise.all(config.targets.map(runStick));
    if (!pushClient) {
      io.print(results.map(({ text }, i) => `# stick ${config.targets[i]!.instance}\n${text}`).join('\n'));
    }
    return results.every(({ ok }) => ok);
  }

  async function deleteGroups(): Promise<void> {
    if (!pushClient || !config.pushgateway) return;
    const { url } = config.pushgateway;
    await Promise.all(config.targets.map(async (target) => {
      try {
        await deleteGroup(pushClient, url, groupingOf(target));
        io.log(`stick ${target.instance}: deleted its group from the Pushgateway`);
      } catch (error) {
        io.log(`stick ${target.instance}: could not delete its group: Pushgateway ${url.href} ${describeFailure(error, policy)}`);
      }
    }));
  }

  return { run, deleteGroups, close: () => destroyAgents(agents) };
}

async function readStick(client: Got, target: Target, maxBytes: number, policy: HttpPolicy): Promise<StickRead> {
  let text: string;
  try {
    text = await fetchStick(client, target, '/jsonlive', maxBytes);
  } catch (error) {
    return { samples: [], problems: [], failure: describeFailure(error, policy) };
  }
  const parsed = parsePayload(text);
  if ('error' in parsed) return { samples: [], problems: [], failure: parsed.error };
  return readPayload(parsed.payload, liveCatalogue);
}

function summary(target: Target, read: StickRead, seconds: number, pushFailure: string | undefined, pushing: boolean): string {
  const name = target.instance === target.url.host ? `stick ${target.instance}` : `stick ${target.instance} (${target.url.host})`;
  const took = seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(1)} s`;
  const outcome = read.failure
    ? `failed, ${read.failure}; took ${took}`
    : `read ${read.samples.length} samples in ${took}` + (read.problems.length ? `; unreadable: ${read.problems.join(', ')}` : '');
  const delivery = !pushing ? '' : pushFailure ? `; push failed: ${pushFailure}` : read.failure ? '; pushed trucki_up 0' : '; pushed';
  return `${name}: ${outcome}${delivery}`;
}
