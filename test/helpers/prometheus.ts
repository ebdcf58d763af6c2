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

/** `args`: further flags, e.g. --web.enable-remote-write-receiver. */
export async function startPrometheus(configYaml: string, args: readonly string[] = []): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, configYaml);
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

  await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
      return fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
    },
    { timeoutMs: 20_000, what: 'prometheus ready', last: () => stderr },
  );

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
