/**
 * One run: every stick read concurrently, each into its own fresh registry, each delivered on its
 * own, so that one failing stick or push holds up nothing else. A stick that cannot be read is
 * delivered as trucki_up 0 with no readings, so that nothing stale survives.
 */
import { jobFamilies, liveCatalogue, onceCatalogue, type CatalogueRow } from './catalogue.js';
import type { Config, Target } from './config.js';
import { fetchStick, type StickPath } from './fetch.js';
import { createAgents, createClient, describeFailure, destroyAgents, type HttpPolicy } from './http.js';
import { parsePayload, readIdentity, readPayload, type Payload, type Reading, type Sample } from './parse.js';
import { createSink, SinkFailure } from './sinks.js';

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

export async function createJob(config: Config, io: Io): Promise<Job> {
  const policy: HttpPolicy = { timeoutMs: config.timeoutMs, retries: config.retries };
  const agents = await createAgents([...config.targets, config.pushgateway].some((endpoint) => endpoint?.url.protocol === 'https:'));
  const stickClient = createClient(policy, agents);
  const sink = createSink(config, policy, agents, io.print);
  // What a loop remembers between runs; a one-shot run starts with both empty.
  const lastSuccess = new Map<string, number>();
  const onceReads = new Map<string, { at: number; read: StickRead }>();

  async function read(target: Target, path: StickPath, catalogue: readonly CatalogueRow[], extra?: (payload: Payload) => Sample | undefined): Promise<StickRead> {
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

  async function runStick(target: Target): Promise<boolean> {
    // process.hrtime, not performance.now: the latter loads perf_hooks, a cost on every start.
    const started = process.hrtime.bigint();
    const [live, once] = await Promise.all([read(target, '/jsonlive', liveCatalogue), readOnce(target)]);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const up = live.failure === undefined;
    if (up) lastSuccess.set(target.instance, Date.now() / 1000);
    let deliveryFailure: string | undefined;
    try {
      const last = lastSuccess.get(target.instance) ?? await sink.recall(target);
      if (last !== undefined) lastSuccess.set(target.instance, last);
      await sink.deliver(target, [
        { family: jobFamilies.up, labels: {}, value: up ? 1 : 0 },
        { family: jobFamilies.scrapeDuration, labels: {}, value: seconds },
        ...(last === undefined ? [] : [{ family: jobFamilies.lastSuccess, labels: {}, value: last }]),
        ...(up ? [...live.samples, ...once.samples] : []),
      ]);
    } catch (error) {
      if (!(error instanceof SinkFailure)) throw error;
      deliveryFailure = error.message;
    }
    io.log(summary(target, live, once, seconds, deliveryFailure, sink.verb));
    return up && !deliveryFailure;
  }

  async function run(): Promise<boolean> {
    const results = await Promise.all(config.targets.map(runStick));
    try {
      await sink.flush();
    } catch (error) {
      if (!(error instanceof SinkFailure)) throw error;
      io.log(error.message);
      return false;
    }
    return results.every(Boolean);
  }

  async function deleteGroups(): Promise<void> {
    const { remove } = sink;
    if (!remove) return;
    await Promise.all(config.targets.map(async (target) => {
      try {
        await remove(target);
        io.log(`stick ${target.instance}: deleted its group from the Pushgateway`);
      } catch (error) {
        io.log(`stick ${target.instance}: could not delete its group: ${error instanceof Error ? error.message : String(error)}`);
      }
    }));
  }

  return { run, deleteGroups, close: () => destroyAgents(agents) };
}

function summary(target: Target, live: StickRead, once: StickRead, seconds: number, deliveryFailure: string | undefined, verb: string | undefined): string {
  const name = target.instance === target.url.host ? `stick ${target.instance}` : `stick ${target.instance} (${target.url.host})`;
  const took = seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(1)} s`;
  const unreadable = [...live.problems, ...once.problems];
  const outcome = live.failure
    ? `failed, ${live.failure}; took ${took}`
    : `read ${live.samples.length + once.samples.length} samples in ${took}`
      + (once.failure ? `; identity not read: ${once.failure}` : '')
      + (unreadable.length ? `; unreadable: ${unreadable.join(', ')}` : '');
  const delivery = deliveryFailure ? `; not ${verb ?? 'delivered'}: ${deliveryFailure}` : !verb ? '' : live.failure ? `; ${verb} trucki_up 0` : `; ${verb}`;
  return `${name}: ${outcome}${delivery}`;
}
