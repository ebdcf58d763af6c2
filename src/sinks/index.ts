/** The sink the configuration asks for. */
import type { Config } from '../config/types.js';
import { createHttp, type Agents, type HttpPolicy } from '../http.js';
import { storeAuth } from './auth.js';
import { pushgatewaySink } from './pushgateway.js';
import type { Sink } from './sink.js';
import { stdoutSink, type Print } from './stdout.js';
import { textfileSink } from './textfile.js';
import { victoriaMetricsSink } from './victoriametrics.js';

export function createSink(config: Config, policy: HttpPolicy, agents: Agents, print: Print): Sink {
  if (config.pushgateway)
    return pushgatewaySink(config.pushgateway, createHttp(policy, agents, storeAuth(config.pushgateway)));
  if (config.victoriametrics) {
    const store = config.victoriametrics;
    // Only a loop has later runs to deliver a backlog in.
    const [http, queryHttp] = [store, store.query].map((endpoint) => createHttp(policy, agents, storeAuth(endpoint)));
    return victoriaMetricsSink(store, http!, queryHttp!, config.schedule !== undefined);
  }
  if (config.textfile) return textfileSink(config.textfile);
  return stdoutSink(config.targets, print);
}
