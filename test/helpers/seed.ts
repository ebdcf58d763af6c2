/**
 * Groups put straight on a Pushgateway, as an earlier healthy run of the job would have left them.
 * The text comes from the build under test itself (--stdout), so that HELP and TYPE lines match
 * what that build pushes: the Pushgateway refuses a push whose families disagree with another group.
 */
import { runCli } from './cli.js';

/** The exposition a healthy run of the job pushes for the stick at `stickUrl`. */
export async function healthyExposition(stickUrl: string): Promise<string> {
  const result = await runCli(['-t', `seed=${stickUrl}`, '--stdout']);
  if (result.code !== 0 || !/^trucki_up 1$/m.test(result.stdout)) throw new Error(`seed run failed:\n${result.stderr}`);
  return result.stdout
    .split('\n')
    .filter((line) => !line.startsWith('# stick '))
    .join('\n');
}

/** The same text with its last success set to `seconds`. */
export function withLastSuccess(text: string, seconds: number): string {
  const replaced = text.replace(/^(trucki_last_success_timestamp_seconds) .*$/m, `$1 ${seconds}`);
  if (replaced === text) throw new Error('no trucki_last_success_timestamp_seconds line in the seed text');
  return replaced;
}

/** PUTs `body` as the group at `path` (e.g. /metrics/job/trucki/instance/a); throws unless 2xx. */
export async function putGroup(pushgatewayUrl: string, path: string, body: string): Promise<void> {
  const response = await fetch(`${pushgatewayUrl}${path}`, { method: 'PUT', body });
  if (!response.ok) throw new Error(`seeding ${path}: HTTP ${response.status} ${await response.text()}`);
}

/** Only these families of the text (HELP, TYPE and samples): small groups, for seeding hundreds. */
export function onlyFamilies(text: string, names: readonly string[]): string {
  const family = (line: string) => (line.startsWith('# ') ? line.split(' ')[2] : line.split(/[{ ]/)[0]);
  return `${text
    .split('\n')
    .filter((line) => line !== '' && names.includes(family(line)!))
    .join('\n')}\n`;
}
