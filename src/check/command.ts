/**
 * `trucki2pushgateway check`: the whole chain once, with a run's configuration, one ✓, ✗ or ? line per step:
 * configuration, sticks, the sink taking a real delivery, and what Prometheus makes of it (rules, alerts).
 */
import { readCommand } from '../config/load.js';
import type { Command, Endpoint, Target } from '../config/types.js';
import { ConfigError, errnoCode } from '../errors.js';
import { createAgents, createHttp, destroyAgents, type HttpPolicy } from '../http.js';
import { createJob } from '../run.js';
import { sinkKinds } from '../sinks/registry.js';
import { delivered, type Print } from '../sinks/sink.js';
import type { StickReading } from '../stick.js';
import { prometheusApi } from './prometheus-api.js';
import { pushCadence, pushgatewaySteps, type Cadence, type PrometheusSide } from './prometheus.js';
import { rulesAndAlerts } from './rules.js';
import { checkStatus, count, failed, lineOf, ok, statusOf, type Step } from './report.js';
import { alertForget, type DeliveredStick } from './series.js';
import { deliverySteps, pushgatewayGroups, recallStep, recording, unnamedSteps } from './sink.js';
import { stickStep } from './stick.js';
import { connect } from '../wiring.js';
import { stickGrouping } from '../sinks/pushgateway.js';

declare const __VERSION__: string | undefined;

interface CheckIo {
  readonly log: (line: string) => void; // the run's own lines, on standard error as ever
  readonly print: Print;
}

/** `answer` prints --help or --version, as the command does without `check`. */
export async function runCheck(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CheckIo,
  answer: (kind: 'help' | 'version') => Promise<number>,
): Promise<number> {
  const steps: Step[] = [];
  const say = async (step: Step) => {
    steps.push(step);
    await io.print(lineOf(step)).catch((error: unknown) => {
      throw new OutputLost(errnoCode(error) ?? 'error');
    });
  };
  try {
    return (await walk(argv, env, io, answer, say)) ?? statusOf(steps);
  } catch (error) {
    if (!(error instanceof OutputLost)) throw error;
    // Nobody reads the lines any more (a closed pipe, a full disk): stop, and say so where one may.
    io.log(`trucki2pushgateway: standard output could not be written (${error.message}); check stopped`);
    return checkStatus.failed;
  }
}

class OutputLost extends Error {}

/** Says each step; the exit status if it is not what the steps add up to. */
async function walk(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CheckIo,
  answer: (kind: 'help' | 'version') => Promise<number>,
  say: (step: Step) => Promise<void>,
): Promise<number | undefined> {
  let command: Command;
  let cadence: Cadence;
  try {
    command = await readCommand(argv, env);
    if (command.kind === 'help' || command.kind === 'version') return await answer(command.kind);
    if (command.kind !== 'check') throw new Error('check: readCommand did not read a check');
    cadence = pushCadence(command.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    await say(failed(`configuration: ${error.message}`));
    return checkStatus.configuration;
  }
  const { config } = command;
  const { pushgateway, victoriametrics, textfile } = config;
  const sink =
    (pushgateway && `Pushgateway ${pushgateway.url.href}`) ||
    (victoriametrics && `VictoriaMetrics ${victoriametrics.url.href}`) ||
    (textfile && `textfile ${textfile}`) ||
    'standard output';
  const version = typeof __VERSION__ === 'string' ? __VERSION__ : 'dev';
  const sticks = count(config.targets.length);
  await say(ok(`trucki2pushgateway ${version}, configuration: ${sticks}, to ${sink}, a run ${cadence.words}`));

  // The run's readings, kept for the stick lines; standard output only takes its samples in words.
  const readings = new Map<Target, StickReading>();
  const connections = await connect(config, io.print, sinkKinds, true);
  const recorded = recording(pushgateway || victoriametrics || textfile ? connections.sink : quietSink);
  const readStick = (target: Target) =>
    connections.readStick(target).then((reading) => readings.set(target, reading).get(target)!);
  const job = createJob(config, io.log, { ...connections, readStick, sink: recorded.sink });
  try {
    await job.run(config.targets);
    for (const target of config.targets) await say(stickStep(target, readings.get(target)!));
    for (const step of await deliverySteps(config, recorded.failures)) await say(step);
    await storeSteps(command, readings, recorded, cadence, say);
  } finally {
    job.close();
  }
}

/** What the store and, where it applies, Prometheus say of the run just delivered. */
async function storeSteps(
  { config, prometheus: named }: Extract<Command, { kind: 'check' }>,
  readings: ReadonlyMap<Target, StickReading>,
  recorded: ReturnType<typeof recording>,
  cadence: Cadence,
  say: (step: Step) => Promise<void>,
): Promise<void> {
  const struck = new Set([...recorded.failures.values()].flat());
  const labelled = config.pushgateway ?? config.victoriametrics;
  const delivered = config.targets.flatMap((target): DeliveredStick[] => {
    const samples = recorded.samples.get(target);
    if (!labelled || !samples || struck.has(target.instance)) return [];
    const labels = stickGrouping(labelled, target).filter(([, value]) => value !== '');
    const { live, readAt } = readings.get(target)!;
    return [{ target, instance: target.instance, labels, samples, ...(!live.failure && { readAt }) }];
  });
  const policy: HttpPolicy = { timeoutMs: config.timeoutMs, retries: config.retries };
  const prometheus = named ?? config.victoriametrics?.query ?? { url: new URL('http://localhost:9090') };
  const stores = [prometheus, config.pushgateway, config.victoriametrics?.query];
  const agents = await createAgents(stores.some((store) => store?.url.protocol === 'https:'));
  const api = (endpoint: Endpoint) => prometheusApi(createHttp(policy, agents, endpoint), endpoint.url);
  const side = (victoriametrics: boolean): PrometheusSide => ({
    api: api(prometheus),
    shown: prometheus.url.href,
    named: named !== undefined || victoriametrics,
    victoriametrics: victoriametrics && named === undefined,
    setting: named || !config.victoriametrics ? '--prometheus-url' : '--victoriametrics-query-url',
    credentials:
      prometheus.username !== undefined || ('bearerToken' in prometheus && prometheus.bearerToken !== undefined),
  });
  try {
    const { pushgateway, victoriametrics: store } = config;
    if (pushgateway) {
      const http = createHttp(policy, agents, pushgateway);
      const groups = await pushgatewayGroups(pushgateway, http, delivered, config.targets);
      for (const step of unnamedSteps(pushgateway, groups)) await say(step);
      if (await pushgatewaySteps(side(false), pushgateway, groups.sticks, cadence, say))
        await rulesAndAlerts(side(false), say, alertForget(pushgateway, groups.unnamed));
    } else if (store && recorded.failures.size === 0) {
      const recall = await recallStep(store, recorded.sink, delivered, (expr) => api(store.query).query(expr));
      await say(recall);
      // The query API is Prometheus's; a vmagent has none to ask unless another is named.
      if (named !== undefined || recall.mark !== 'unchecked') await rulesAndAlerts(side(true), say);
    }
  } finally {
    destroyAgents(agents);
  }
}

/** For --stdout: the check shows no exposition text, only its lines. */
const quietSink = { deliver: () => Promise.resolve(delivered) };
