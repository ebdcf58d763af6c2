/**
 * A real Prometheus Pushgateway (Debian's prometheus-pushgateway) on a free loopback port, with
 * its own temp persistence file: Debian's build would otherwise persist to /var/lib/prometheus/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopProgram } from './process.js';
import { until } from './until.js';

export const pushgatewayBinary = process.env.PUSHGATEWAY_BIN ?? 'prometheus-pushgateway';

export interface MetricFamilyJson {
  readonly type: string;
  readonly help: string;
  readonly metrics: { readonly labels: Record<string, string>; readonly value?: string }[];
}
export interface GroupJson {
  readonly labels: Record<string, string>;
  readonly [family: string]: unknown; // a MetricFamilyJson per family, the labels, last_push_successful
}

export interface RunningPushgateway {
  readonly url: string;
  readonly dir: string;
  /** Of the Pushgateway process, e.g. for its CPU time in the benchmarks. */
  readonly pid: number;
  /** Every group, as /api/v1/metrics reports it. */
  groups(): Promise<GroupJson[]>;
  /** The group whose grouping labels are exactly `labels`, if any. */
  group(labels: Record<string, string>): Promise<GroupJson | undefined>;
  stop(): Promise<void>;
}

export async function startPushgateway(args: readonly string[] = [], scheme = 'http'): Promise<RunningPushgateway> {
  const dir = await mkdtemp(join(tmpdir(), 'pushgateway-'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      pushgatewayBinary,
      [
        `--web.listen-address=127.0.0.1:${port}`,
        `--persistence.file=${join(dir, 'persistence')}`,
        '--log.level=warn',
        ...args,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const url = `${scheme}://127.0.0.1:${port}`;
    if (await ready(child, port)) return handle(url, dir, child);
    child.kill('SIGKILL');
    if (attempt >= 3) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`prometheus-pushgateway did not start: ${stderr.trim()}`);
    }
  }
}

/** Ready once it accepts TCP connections; false if it exits first (e.g. the port was taken). */
async function ready(child: ChildProcess, port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => {
        resolve(false);
      });
    });
  return until(async () => child.exitCode !== null || (await accepts()), { timeoutMs: 10_000, intervalMs: 50 }).then(
    () => child.exitCode === null,
    () => false,
  );
}

function handle(url: string, dir: string, child: ChildProcess, fetchInit: RequestInit = {}): RunningPushgateway {
  const groups = async () => {
    const response = await fetch(`${url}/api/v1/metrics`, fetchInit);
    if (!response.ok) throw new Error(`GET /api/v1/metrics: HTTP ${response.status}`);
    return ((await response.json()) as { data: GroupJson[] }).data;
  };
  return {
    url,
    dir,
    pid: child.pid!,
    groups,
    async group(labels) {
      const wanted = JSON.stringify(Object.entries(labels).sort());
      return (await groups()).find((group) => JSON.stringify(Object.entries(group.labels).sort()) === wanted);
    },
    stop: () => stopProgram(child, dir),
  };
}

/** The value of one sample of `family` in `group` whose labels include `labels`. */
export function sampleValue(
  group: GroupJson | undefined,
  family: string,
  labels: Record<string, string> = {},
): number | undefined {
  const metrics = (group?.[family] as MetricFamilyJson | undefined)?.metrics ?? [];
  const match = metrics.find((metric) =>
    Object.entries(labels).every(([name, value]) => metric.labels[name] === value),
  );
  return match?.value === undefined ? undefined : Number(match.value);
}

/** Names of the metric families a group holds, without the Pushgateway's own push_* families. */
export function familyNames(group: GroupJson | undefined): string[] {
  if (!group) return [];
  return Object.keys(group)
    .filter((key) => key !== 'labels' && key !== 'last_push_successful' && !key.startsWith('push_'))
    .sort();
}
