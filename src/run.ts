/**
 * One run: every stick read concurrently, each into its own fresh registry, each pushed (or
 * printed) on its own, so that one failing stick or push holds up nothing else. A stick that
 * cannot be read is pushed as trucki_up 0 with no readings, so that nothing stale survives.
 */
import type { ExtendOptions, Got } from 'got';
import { jobFamilies, liveCatalogue, onceCatalogue } from './catalogue.js';
import type { Config, Pushgateway, Target } from './config.js';
import { fetchStick, type StickPath } from './fetch.js';
import { createAgents, createClient, describeFailure, destroyAgents, type HttpPolicy } from './http.js';
import { buildRegistry } from './metrics.js';
import { parsePayload, readIdentity, readPayload, type Payload, type Reading, type Sample } from './parse.js';
import { deleteGroup, pushGroup, readGroupValue, type Grouping } from './push.js';

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

/** Identity and configuration rarely change: a loop reads /jsononce this seldom. */
const onceInterval = 10 * 60_000;

type StickRead = Reading & {
  /** Why the stick could not be read, in words: "timed out after 5 s". */
  readonly failure?: string;
};

export function createJob(config: Config, io: Io): Job {
  const policy: HttpPolicy = { timeoutMs: config.timeoutMs, retries: config.retries };
  const agents = createAgents();
  const stickClient = createClient(policy, agents);
  const pushgateway = config.pushgateway;
  const pushClient = pushgateway && createClient(policy, agents, pushgatewayAuth(pushgateway));
  // What a loop remembers between runs; a one-shot run starts with both empty.
  const lastSuccess = new Map<string, number>();
  const onceReads = new Map<string, { at: number; read: StickRead }>();

  const groupingOf = (target: Target): Grouping => [['job', pushgateway!.job], ['instance', target.instance], ...pushgateway!.grouping];

  async function read(target: Target, path: StickPath, catalogue: typeof liveCatalogue, extra?: (payload: Payload) => Sample | undefined): Promise<StickRead> {
    let text: string;
    try {
      text = await fetchStick(stickClient, target, path, config.maxBodyBytes);
    } catch (error) {
      return { samples: [], problems: [], failure: describeFailure(error, policy) };
    }
    const parsed = parsePayload(text);
    if ('error' in parsed) return { samples: [], problems: [], failure: `${parsed.error} on ${path}` };
    const reading = readPayload(parsed.payload, catalogue);
    const more = extra?.(parsed.payload);
    return more ? { ...reading, samples: [more, ...reading.samples] } : reading;
  }

  async function readOnce(target: Target): Promise<StickRead> {
    const cached = onceReads.get(target.instance);
    if (cached && Date.now() - cached.at < onceInterval) return cached.read;
    const once = await read(target, '/jsononce', onceCatalogue, readIdentity);
    onceReads.set(target.instance, { at: Date.now(), read: once });
    return once;
  }

  /** When the stick last answered: from this process's memory, else from the Pushgateway. */
  async function recallLastSuccess(target: Target): Promise<number | undefined> {
    const remembered = lastSuccess.get(target.instance);
    if (remembered !== undefined || !pushClient) return remembered;
    return readGroupValue(pushClient, pushgateway!.url, groupingOf(target), jobFamilies.lastSuccess.name);
  }

  async function runStick(target: Target): Promise<{ ok: boolean; text: string }> {
    const started = performance.now();
    const [live, once] = await Promise.all([read(target, '/jsonlive', liveCatalogue), readOnce(target)]);
    const seconds = (performance.now() - started) / 1000;
    const up = live.failure === undefined;
    if (up) lastSuccess.set(target.instance, Date.now() / 1000);

    let deliveryFailure: string | undefined;
    let last: number | undefined;
    try {
      last = await recallLastSuccess(target);
    } catch (error) {
      // Pushing now would erase the last success the Pushgateway holds: better not push at all.
      deliveryFailure = `Pushgateway ${pushgateway!.url.href} ${describeFailure(error, policy)} when asked for the last success; not pushed`;
    }
    const samples: Sample[] = [
      { family: jobFamilies.up, labels: {}, value: up ? 1 : 0 },
      { family: jobFamilies.scrapeDuration, labels: {}, value: seconds },
      ...(last === undefined ? [] : [{ family: jobFamilies.lastSuccess, labels: {}, value: last }]),
      ...(up ? [...live.samples, ...once.samples] : []),
    ];
    const text = await buildRegistry(samples).metrics();
    if (pushClient && !deliveryFailure) {
      try {
        await pushGroup(pushClient, pushgateway!.url, groupingOf(target), text);
      } catch (error) {
        deliveryFailure = `Pushgateway ${pushgateway!.url.href} ${describeFailure(error, policy)}`;
      }
    }
    io.log(summary(target, live, once, seconds, deliveryFailure, Boolean(pushClient)));
    return { ok: up && !deliveryFailure, text };
  }

  async function run(): Promise<boolean> {
    const results = await Promise.all(config.targets.map(runStick));
    if (!pushClient) {
      io.print(results.map(({ text }, i) => `# stick ${config.targets[i]!.instance}\n${text}`).join('\n'));
    }
    return results.every(({ ok }) => ok);
  }

  async function deleteGroups(): Promise<void> {
    if (!pushClient) return;
    await Promise.all(config.targets.map(async (target) => {
      try {
        await deleteGroup(pushClient, pushgateway!.url, groupingOf(target));
        io.log(`stick ${target.instance}: deleted its group from the Pushgateway`);
      } catch (error) {
        io.log(`stick ${target.instance}: could not delete its group: Pushgateway ${pushgateway!.url.href} ${describeFailure(error, policy)}`);
      }
    }));
  }

  return { run, deleteGroups, close: () => destroyAgents(agents) };
}

function pushgatewayAuth(pushgateway: Pushgateway): ExtendOptions {
  return {
    ...(pushgateway.username !== undefined && { username: pushgateway.username }),
    ...(pushgateway.password !== undefined && { password: pushgateway.password }),
    ...(pushgateway.bearerToken !== undefined && { headers: { authorization: `Bearer ${pushgateway.bearerToken}` } }),
    ...(pushgateway.ca !== undefined && { https: { certificateAuthority: pushgateway.ca } }),
  };
}

function summary(target: Target, live: StickRead, once: StickRead, seconds: number, deliveryFailure: string | undefined, pushing: boolean): string {
  const name = target.instance === target.url.host ? `stick ${target.instance}` : `stick ${target.instance} (${target.url.host})`;
  const took = seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(1)} s`;
  const unreadable = [...live.problems, ...once.problems];
  const outcome = live.failure
    ? `failed, ${live.failure}; took ${took}`
    : `read ${live.samples.length + once.samples.length} samples in ${took}`
      + (once.failure ? `; identity not read: ${once.failure}` : '')
      + (unreadable.length ? `; unreadable: ${unreadable.join(', ')}` : '');
  const delivery = !pushing ? '' : deliveryFailure ? `; push failed: ${deliveryFailure}` : live.failure ? '; pushed trucki_up 0' : '; pushed';
  return `${name}: ${outcome}${delivery}`;
}
