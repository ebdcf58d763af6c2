/** What the tests of `trucki2pushgateway check` share: reading its lines, and a scrape target of the Pushgateway. */
import assert from 'node:assert/strict';
import type { ScrapeTarget } from '../../src/check/prometheus-api.js';

interface Printed {
  readonly stdout: string;
  readonly stderr: string;
}

/** The lines of a check's output with the given mark. */
export const marked = (result: Printed, mark: '✓' | '✗' | '?') =>
  result.stdout.split('\n').filter((line) => line.startsWith(`${mark} `));

/** Every line of a check starts with one of the three marks, and there is no stack trace anywhere. */
export function assertWellFormed(result: Printed): void {
  const lines = result.stdout.split('\n').filter(Boolean);
  assert.ok(lines.length > 0, 'no output');
  for (const line of lines) assert.match(line, /^[✓✗?] /, `not a check line: ${line}`);
  assert.doesNotMatch(result.stdout + result.stderr, /\n\s+at /, 'a stack trace');
}

/** Prometheus's scrape job "pushgateway" of a Pushgateway on localhost:9091, up, not scraped yet. */
export const pushgatewayTarget: ScrapeTarget = {
  scrapePool: 'pushgateway',
  job: 'pushgateway',
  instance: 'localhost:9091',
  scrapeUrl: 'http://localhost:9091/metrics',
  health: 'up',
  lastError: '',
  lastScrape: '',
};
