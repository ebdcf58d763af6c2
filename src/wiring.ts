/** The real connections of a job: HTTP to the sticks and the sink the configuration chose. */
import type { Config, Target } from './config/types.js';
import { cacheDirectory } from './cache-dir.js';
import { createAgents, createHttp, destroyAgents, type HttpPolicy } from './http.js';
import { chooseSink, sinkKinds } from './sinks/registry.js';
import type { AnySink, Print, SinkKind } from './sinks/sink.js';
import { sinkWords, type SinkWords } from './log-line.js';
import { createIdentityCache } from './identity-cache.js';
import { createStickReader, type StickReading } from './stick.js';

/** What a job talks to: the sticks and the sink, with the sink's words for the log. Tests put fakes here. */
export interface Connections {
  readonly readStick: (target: Target) => Promise<StickReading>;
  readonly sink: AnySink;
  readonly words: SinkWords;
  /** Closes the kept-alive connections, so that the process can end, and leaves the identity cache for the next run. */
  readonly close: () => void;
  /** The job runs once (or is `check`): its run closes the sink. */
  readonly oneShot: boolean;
  /** Where a one-shot run keeps what the next run should know (src/cache-dir.ts). */
  readonly stateDir?: string;
}

/** `checking`: `check`, which reads each stick's /jsononce afresh and leaves nothing in the cache directory. */
export async function connect(
  config: Config,
  print: Print,
  kinds: readonly SinkKind[] = sinkKinds,
  checking = false,
): Promise<Connections> {
  const policy: HttpPolicy = { timeoutMs: config.timeoutMs, retries: config.retries };
  // check delivers once and keeps nothing for a later run, whatever schedule its configuration names.
  const { kind, chosen } = chooseSink(checking ? { ...config, schedule: undefined } : config, kinds);
  const endpoints = [...config.targets, ...chosen.endpoints];
  // A loop's targets file may name an https stick later: keep an https agent ready then. A one-shot
  // run knows all its sticks now, and loads TLS only if one of them needs it.
  const rereads = config.targetsFile !== undefined && config.schedule !== undefined;
  const https = rereads || endpoints.some((endpoint) => endpoint.url.protocol === 'https:');
  const agents = await createAgents(https);
  // A loop remembers in memory; a one-shot run leaves it to the next in the cache directory.
  const oneShot = !config.schedule || checking;
  const stateDir = oneShot && !checking ? cacheDirectory() : undefined;
  const identities = createIdentityCache(stateDir);
  return {
    readStick: createStickReader(createHttp(policy, agents), config.maxBodyBytes, identities),
    sink: chosen.create({ http: (store) => createHttp(policy, agents, store), print }),
    words: sinkWords(kind.name, config),
    oneShot,
    ...(stateDir !== undefined && { stateDir }),
    close: () => {
      destroyAgents(agents);
      identities.save();
    },
  };
}
