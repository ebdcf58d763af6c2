/**
 * The VictoriaMetrics programs (Debian's victoria-metrics, 1.79 here) on free loopback ports with
 * temp storage: a single node, a vmagent in front of any remote-write store, and a vmalert.
 *
 * Facts these rely on, learnt by experiment on 1.79:
 * - A sample imported into a single node is searchable only after its in-memory buffers are
 *   flushed (about 1 s, or GET /internal/force_flush, which is for tests) and, for a new series,
 *   about 1 s more even after a forced flush; a query made in that time can go on seeing nothing
 *   for up to 10 s, so `waitFor` and `exportSeries` flush before each poll.
 * - An instant query for "now" is moved back by -search.latencyOffset (default 30 s) unless it
 *   carries nocache=1: the last 30 s are invisible to it otherwise.
 * - vmagent answers 400 "unsupported path requested" to /api/v1/query: it has no query API.
 * - vmalert refuses to start with alerting rules but no notifier, and with recording rules but no
 *   -remoteWrite.url; a -notifier.config with an empty target list runs it without Alertmanager.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopProgram } from './process.js';
import { until } from './until.js';

export interface Series {
  readonly metric: Record<string, string>;
  readonly values: number[];
  readonly timestamps: number[];
}

interface Program {
  readonly url: string;
  readonly dir: string;
  stop(): Promise<void>;
}

export interface RunningVictoriaMetrics extends Program {
  /** Of the running process (a new one after `resume`), e.g. for its CPU time in the benchmarks. */
  readonly pid: number;
  /** An instant query at now, without the latency offset; rejects on an error. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /**
   * Every raw sample of the series matching `selector`, from /api/v1/export, polled (flushing
   * first) until `done` holds for them; rejects after `timeoutMs`.
   */
  exportSeries(selector: string, done?: (series: Series[]) => boolean, timeoutMs?: number): Promise<Series[]>;
  /** Makes what was imported searchable now. */
  flush(): Promise<void>;
  /** Polls `expr` (flushing first) until `done` holds for its result; rejects after `timeoutMs`. */
  waitFor(
    expr: string,
    done?: (result: { metric: Record<string, string>; value: [number, string] }[]) => boolean,
    timeoutMs?: number,
  ): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Stops the program but keeps its storage, for an outage. */
  pause(): Promise<void>;
  /** Starts it again on the same port and storage. */
  resume(): Promise<void>;
}

/** Starts `binary` with the flags `flagsFor(port)` until it answers /health; retries on a taken port. */
export async function launch(
  binary: string,
  flagsFor: (port: number) => string[],
  port?: number,
): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const chosen = port ?? (await freePort());
    const flags = [`-httpListenAddr=127.0.0.1:${chosen}`, '-loggerLevel=ERROR', ...flagsFor(chosen)];
    const child = spawn(binary, flags, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const healthy = await until(
      async () =>
        child.exitCode !== null ||
        (await fetch(`http://127.0.0.1:${chosen}/health`).then(
          (r) => r.ok,
          () => false,
        )),
      { timeoutMs: 20_000, intervalMs: 50, what: `${binary} healthy` },
    ).then(
      () => child.exitCode === null,
      () => false,
    );
    if (healthy) return { child, port: chosen };
    child.kill('SIGKILL');
    if (attempt >= 3 || port !== undefined) throw new Error(`${binary} did not start: ${stderr.trim()}`);
  }
}

export interface VictoriaMetricsOptions {
  /** -search.latencyOffset; default 0s so that vmalert sees fresh samples at once; 'default': VM's own (30s). */
  readonly latencyOffset?: string;
  readonly args?: readonly string[];
}

function latencyOffsetFlag(offset: string | undefined): string[] {
  if (offset === 'default') return [];
  return [`-search.latencyOffset=${offset ?? '0s'}`];
}

export async function startVictoriaMetrics(options: VictoriaMetricsOptions = {}): Promise<RunningVictoriaMetrics> {
  const dir = await mkdtemp(join(tmpdir(), 'victoria-metrics-'));
  const flags = () => [
    `-storageDataPath=${join(dir, 'data')}`,
    '-retentionPeriod=10y',
    ...latencyOffsetFlag(options.latencyOffset),
    ...(options.args ?? []),
  ];
  const launched = await launch('victoria-metrics', flags);
  const { port } = launched;
  let { child } = launched;
  const url = `http://127.0.0.1:${port}`;
  const query = async (expr: string) => {
    const response = await fetch(
      `${url}/api/v1/query?${new URLSearchParams({ query: expr, nocache: '1' }).toString()}`,
    );
    const body = (await response.json()) as { status: string; error?: string; data?: { result: unknown } };
    if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error}`);
    return body.data!.result as { metric: Record<string, string>; value: [number, string] }[];
  };
  const flush = async () => {
    await fetch(`${url}/internal/force_flush`);
  };
  return {
    url,
    dir,
    get pid() {
      return child.pid!;
    },
    query,
    flush,
    async exportSeries(selector, done = (series) => series.length > 0, timeoutMs = 20_000) {
      let series: Series[] = [];
      return until(
        async () => {
          await flush();
          const text = await (
            await fetch(`${url}/api/v1/export?${new URLSearchParams({ 'match[]': selector }).toString()}`)
          ).text();
          series = text
            .split('\n')
            .filter((line) => line !== '')
            .map((line) => JSON.parse(line) as Series);
          return done(series) && series;
        },
        {
          timeoutMs,
          intervalMs: 250,
          what: `${selector} as wanted`,
          last: () => JSON.stringify(series).slice(0, 2000),
        },
      );
    },
    async waitFor(expr, done = (result) => result.length > 0, timeoutMs = 20_000) {
      let result: Awaited<ReturnType<typeof query>> = [];
      return until(
        async () => {
          await flush();
          result = await query(expr);
          return done(result) && result;
        },
        { timeoutMs, intervalMs: 250, what: `${expr} as wanted`, last: () => JSON.stringify(result) },
      );
    },
    async pause() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
    async resume() {
      ({ child } = await launch('victoria-metrics', flags, port));
    },
    stop: () => stopProgram(child, dir),
  };
}

export interface RunningVmagent extends Program {
  /** Stops the program but keeps its queue on disk, for an outage. */
  pause(): Promise<void>;
  /** Starts it again on the same port and queue. */
  resume(): Promise<void>;
}

/** A vmagent accepting pushes and forwarding them by remote write to `remoteWriteUrl`, buffering on disk. */
export async function startVmagent(remoteWriteUrl: string, args: readonly string[] = []): Promise<RunningVmagent> {
  const dir = await mkdtemp(join(tmpdir(), 'vmagent-'));
  const flags = () => [`-remoteWrite.url=${remoteWriteUrl}`, `-remoteWrite.tmpDataPath=${join(dir, 'queue')}`, ...args];
  const launched = await launch('vmagent', flags);
  const { port } = launched;
  let { child } = launched;
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    async pause() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // As systemctl stop: vmagent writes what it holds in memory to its queue on disk first.
      child.kill('SIGTERM');
      await exited;
    },
    async resume() {
      ({ child } = await launch('vmagent', flags, port));
    },
    stop: () => stopProgram(child, dir),
  };
}

export interface Alert {
  readonly name: string;
  readonly state: string;
  readonly labels: Record<string, string>;
}

export interface RunningVmalert extends Program {
  /** Alerts pending or firing now, from vmalert's /api/v1/alerts. */
  alerts(): Promise<Alert[]>;
  /** Resolves once every rule group was evaluated after `since` (Unix ms). */
  evaluatedAfter(since: number): Promise<void>;
}

/** vmalert evaluating `rulesYaml` every second against `datasourceUrl`; no Alertmanager. */
export async function startVmalert(rulesYaml: string, datasourceUrl: string): Promise<RunningVmalert> {
  const dir = await mkdtemp(join(tmpdir(), 'vmalert-'));
  await writeFile(join(dir, 'rules.yml'), rulesYaml);
  await writeFile(join(dir, 'notifier.yml'), 'static_configs:\n  - targets: []\n');
  const { child, port } = await launch('vmalert', () => [
    `-rule=${join(dir, 'rules.yml')}`,
    `-datasource.url=${datasourceUrl}`,
    // Where recording rules write their results: vmalert will not start without it.
    `-remoteWrite.url=${datasourceUrl}`,
    `-notifier.config=${join(dir, 'notifier.yml')}`,
    '-evaluationInterval=1s',
  ]);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    dir,
    async alerts() {
      const body = (await (await fetch(`${url}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] | null } };
      return body.data.alerts ?? [];
    },
    async evaluatedAfter(since) {
      await until(
        async () => {
          const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as {
            data: { groups: { lastEvaluation: string }[] };
          };
          const groups = body.data.groups;
          return groups.length > 0 && groups.every((group) => Date.parse(group.lastEvaluation) > since);
        },
        { what: `every vmalert rule group evaluated after ${new Date(since).toISOString()}` },
      );
    },
    stop: () => stopProgram(child, dir),
  };
}
