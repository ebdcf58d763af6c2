/** A real Prometheus (Debian's `prometheus`) on a free loopback port with a temp TSDB. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopProgram } from './process.js';
import { until } from './until.js';

export interface RunningPrometheus {
  readonly url: string;
  /** An instant query; rejects on any error Prometheus reports. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Polls `expr` until it returns a result, or rejects after `timeoutMs`. */
  waitFor(expr: string, timeoutMs?: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Polls until every rule group was evaluated after `since` (ms since the epoch), so over what was there then. */
  evaluatedAfter(since: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Prometheus on a free port once it is ready; undefined if the port was taken first, unless `last`. */
async function launch(
  configFile: string,
  dir: string,
  args: readonly string[],
  last: boolean,
): Promise<{ child: ChildProcess; url: string } | undefined> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const taken = await until(
    async () => {
      if (child.exitCode !== null) {
        if (!last && /address already in use/.test(stderr)) return 'taken';
        throw new Error(`prometheus exited: ${stderr}`);
      }
      // Its own answer, not that of whatever else listens there (a Pushgateway has /-/ready too).
      return fetch(`${url}/-/ready`).then(
        async (r) => r.ok && (await r.text()).includes('Prometheus'),
        () => false,
      );
    },
    { timeoutMs: 20_000, what: 'prometheus ready', last: () => stderr },
  );
  return taken === 'taken' ? undefined : { child, url };
}

/** `args`: further flags, e.g. --web.enable-remote-write-receiver. */
export async function startPrometheus(configYaml: string, args: readonly string[] = []): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, configYaml);
  // The free port can be taken before Prometheus binds it (by another test's program): then another one.
  let started: { child: ChildProcess; url: string } | undefined;
  for (let attempt = 0; !started; attempt++) started = await launch(configFile, dir, args, attempt >= 3);
  const { child, url } = started;

  const query = async (expr: string) => {
    const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr }).toString()}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: unknown };
    };
    if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error}`);
    const result = body.data!.result;
    return (Array.isArray(result) ? result : []) as { metric: Record<string, string>; value: [number, string] }[];
  };
  return {
    url,
    query,
    async waitFor(expr, timeoutMs = 20_000) {
      return until(
        async () => {
          const result = await query(expr);
          return result.length > 0 && result;
        },
        { timeoutMs, intervalMs: 250, what: `result for ${expr}` },
      );
    },
    async evaluatedAfter(since, timeoutMs = 20_000) {
      let groups: { name: string; lastEvaluation: string }[] = [];
      await until(
        async () => {
          const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: typeof groups } };
          groups = body.data.groups;
          return groups.length > 0 && groups.every((group) => Date.parse(group.lastEvaluation) > since);
        },
        {
          timeoutMs,
          intervalMs: 250,
          what: `every rule group evaluated after ${new Date(since).toISOString()}`,
          last: () => JSON.stringify(groups.map(({ name, lastEvaluation }) => [name, lastEvaluation])),
        },
      );
    },
    stop: () => stopProgram(child, dir),
  };
}
