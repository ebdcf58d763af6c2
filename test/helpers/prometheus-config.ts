/**
 * Debian's /etc/prometheus/prometheus.yml (from the prometheus package) with trucki2pushgateway
 * added by the README's two commands, on a copy in a temp directory: the rule file named under
 * rule_files:, the scrape job of deploy/prometheus/trucki-scrape.yml appended to scrape_configs:.
 */
import { execFile } from 'node:child_process';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './paths.js';

const execFileAsync = promisify(execFile);

export const debianPrometheusYml = '/etc/prometheus/prometheus.yml';

/** The README's commands, with /etc/prometheus/ standing for `dir`. */
export const addToPrometheusCommands = (dir: string, examples = `${repoRoot}deploy/prometheus`): string[] => [
  `cp ${examples}/trucki-rules.yml ${dir}/`,
  `sed -i '/^rule_files:/a\\  - trucki-rules.yml' ${dir}/prometheus.yml`,
  `cat ${examples}/trucki-scrape.yml >> ${dir}/prometheus.yml`,
];

/** Copies Debian's prometheus.yml into `dir`, runs the README's commands on it; returns its path. */
export async function debianConfigWithTrucki(dir: string): Promise<string> {
  const config = join(dir, 'prometheus.yml');
  await copyFile(debianPrometheusYml, config);
  for (const command of addToPrometheusCommands(dir)) await execFileAsync('sh', ['-ec', command]);
  return config;
}
