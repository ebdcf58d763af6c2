/** The real connections of a job: HTTP to the sticks and the sink the configuration asks for. */
import type { Config, Target } from './config/types.js';
import { createAgents, createHttp, destroyAgents, type HttpPolicy } from './http.js';
import { createSink } from './sinks/index.js';
import type { Sink } from './sinks/sink.js';
import type { Print } from './sinks/stdout.js';
import { createStickReader, type StickReading } from './stick.js';

/** What a job talks to: the sticks and the sink. Tests put fakes here. */
export interface Connections {
  readonly readStick: (target: Target) => Promise<StickReading>;
  readonly sink: Sink;
  /** Closes the kept-alive connections, so that the process can end. */
  readonly close: () => void;
}

export async function connect(config: Config, print: Print): Promise<Connections> {
  const policy: HttpPolicy = { timeoutMs: config.timeoutMs, retries: config.retries };
  const endpoints = [...config.targets, config.pushgateway, config.victoriametrics, config.victoriametrics?.query];
  // A loop's targets file may name an https stick later: keep an https agent ready then. A one-shot
  // run knows all its sticks now, and loads TLS only if one of them needs it.
  const rereads = config.targetsFile !== undefined && config.schedule !== undefined;
  const https = rereads || endpoints.some((endpoint) => endpoint?.url.protocol === 'https:');
  const agents = await createAgents(https);
  return {
    readStick: createStickReader(createHttp(policy, agents), config.maxBodyBytes),
    sink: createSink(config, policy, agents, print),
    close: () => {
      destroyAgents(agents);
    },
  };
}
