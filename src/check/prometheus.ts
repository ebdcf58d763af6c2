/**
 * The Prometheus end of the chain: it scrapes this Pushgateway and the target is up, at a cadence
 * that keeps every push; the sticks' series arrive with their own job and instance; the shipped
 * rules are loaded and healthy; and which Trucki alerts fire now.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Pushgateway, Target } from '../config/types.js';
import { HttpFailure, HttpStatus, messageOf, NoAnswer } from '../errors.js';
import { durationSeconds, type Cadence } from './cadence.js';
import type { PrometheusApi, ScrapeTarget, Series } from './prometheus-api.js';
import { failed, ok, unchecked, type Step } from './report.js';

/** What every Prometheus step needs: the API, and how to name it. */
export interface PrometheusSide {
  readonly api: PrometheusApi;
  /** Its URL without user info. */
  readonly shown: string;
  /** False for the default URL: nothing answering there means "not checked", not "failed". */
  readonly named: boolean;
  /** VictoriaMetrics' query API, which shows rules only when it passes the request on to a vmalert. */
  readonly victoriametrics: boolean;
  /** Where its URL and credentials are set, for a 401: "--prometheus-url". */
  readonly setting: string;
  /** Whether credentials went with the requests. */
  readonly credentials: boolean;
}

/** The names of deploy/prometheus/trucki-rules.yml's rules a loaded copy must have (test/check.test.ts keeps them in step). */
export const shippedRules = [
  'instance:trucki_energy_today:kwh',
  'instance:trucki_ac_power:sum_watts',
  'TruckiStickDown',
  'TruckiStickStale',
  'TruckiPushesStopped',
  'TruckiPushFailing',
  'TruckiPushgatewayDown',
  'TruckiInverterHot',
] as const;

/** Bounds of every wait for Prometheus, whatever intervals it reports. */
const maxWaitMs = 5 * 60_000;
/** Prometheus 2.42 holds a new target about 5 s before its first scrape. */
const firstScrapeMs = 6_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A step for a failed read of Prometheus. Nothing answering there (refused, timed out) leaves the
 * step unchecked; a wrong answer from a URL the user named is a failure, from the default one it
 * is only not Prometheus.
 */
export function unreachable(side: PrometheusSide, error: unknown, what: string): Step {
  const why = messageOf(error);
  if (error instanceof HttpStatus && (error.status === 401 || error.status === 403)) {
    // Not a wrong base URL: a Prometheus behind a login.
    const hint = side.credentials
      ? `it does not accept the credentials of ${side.setting}`
      : `it wants credentials: give them as user info in ${side.setting} (https://user:password@host:port)`;
    return (side.named ? failed : unchecked)(`Prometheus ${side.shown} ${why}: ${what} not checked; ${hint}`);
  }
  if (side.named && error instanceof HttpFailure && !(error instanceof NoAnswer))
    return failed(`Prometheus ${side.shown} ${why}: ${what} not checked; is --prometheus-url its base URL?`);
  const named = side.named ? '' : '; name it with --prometheus-url or PROMETHEUS_URL';
  return unchecked(`no Prometheus at ${side.shown} (${why}): ${what} not checked${named}`);
}

/** The Prometheus steps of the Pushgateway path, each said as soon as it is known. */
export async function pushgatewaySteps(
  side: PrometheusSide,
  pushgateway: Pushgateway,
  pushed: readonly Target[],
  pushedAt: number,
  pushTimes: PushTimes,
  cadence: Cadence,
  say: (step: Step) => Promise<void>,
): Promise<void> {
  const wanted = `${pushgateway.url.hostname}:${portOf(pushgateway.url)}`;
  const listed = await scrapeTargets(side, pushgateway.url).catch((error: unknown) => error as Error);
  if (listed instanceof Error) {
    await say(unreachable(side, listed, 'Prometheus'));
    return;
  }
  const { matches: targets, others } = listed;
  // The scrape job a series came through, by its job label.
  const scrapeJob = (jobLabel: string) =>
    `scrape job "${clip(targets.find(({ job }) => job === jobLabel)?.scrapePool ?? jobLabel)}"`;
  const found = targets.find(({ health }) => health === 'up') ?? targets[0];
  if (!found) {
    // Perhaps it is scraped under another name (a container's, a DNS alias): this push's series tell,
    // within about two of Prometheus's usual scrape intervals.
    const usual = Math.max(0, ...others.map(({ scrapeInterval }) => durationSeconds(scrapeInterval ?? '') ?? 0)) || 15;
    const seen = await awaitArrival(side, pushgateway, pushed, pushTimes, pushedAt + waitFor(usual)).catch(
      (error: unknown) => error as Error,
    );
    if (seen instanceof Error) await say(unreachable(side, seen, "whether the sticks' series arrive"));
    else if (seen.renamed) await say(renamedStep(seen.renamed, scrapeJob));
    else if (pushed.length > 0 && seen.missing.length === 0) {
      await say(
        unchecked(
          `Prometheus ${side.shown} has no target at the Pushgateway's address ${wanted}, yet the sticks' series ` +
            'arrive with their own job and instance: it scrapes the Pushgateway under another name, whose scrape ' +
            'interval is not checked',
        ),
      );
    } else {
      await say(
        failed(
          `Prometheus ${side.shown} has no target for the Pushgateway ${wanted}: add the scrape job of ` +
            `deploy/prometheus/trucki-scrape.yml to prometheus.yml (targets: ['${wanted}'], honor_labels: true) and reload it` +
            (side.named ? '' : ' (or name your Prometheus with --prometheus-url)'),
        ),
      );
    }
  } else {
    const job = `scrape job "${clip(found.scrapePool)}"`;
    const interval = found.scrapeInterval === undefined ? undefined : durationSeconds(found.scrapeInterval);
    if (found.health !== 'up') {
      await say(
        failed(
          `Prometheus's ${job} cannot scrape the Pushgateway ${wanted}: ` +
            (clip(found.lastError) || 'Prometheus has not scraped it yet'),
        ),
      );
    } else {
      await say(
        ok(`Prometheus scrapes the Pushgateway ${wanted} (${job}, every ${found.scrapeInterval ?? '?'}) and it is up`),
      );
    }
    await say(cadenceStep(job, found.scrapeInterval, interval, cadence));
    if (found.health === 'up')
      await say(
        await seriesStep(side, pushgateway, pushed, { pushedAt, pushTimes, scrapedBy: targets }, job, scrapeJob),
      );
  }
  await rulesAndAlerts(side, say);
}

function cadenceStep(job: string, shown: string | undefined, interval: number | undefined, cadence: Cadence): Step {
  if (interval === undefined)
    return unchecked(
      `Prometheus does not say the scrape interval of its ${job}: whether it keeps every push is not checked`,
    );
  if (interval <= cadence.seconds)
    return ok(`the scrape interval ${shown!} of the ${job} fits the pushes, ${cadence.words}`);
  return failed(
    `the ${job} scrapes every ${shown!}, but the job pushes ${cadence.words}: pushes between two scrapes never reach ` +
      `Prometheus; set scrape_interval: ${cadence.seconds}s (or less) in the ${job}`,
  );
}

/** The Pushgateway's targets among Prometheus's active ones: the same host (loopback names alike) and port. */
async function scrapeTargets(
  side: PrometheusSide,
  pushgateway: URL,
): Promise<{ matches: ScrapeTarget[]; others: ScrapeTarget[] }> {
  const deadline = Date.now() + firstScrapeMs;
  for (;;) {
    const all = await side.api.targets();
    const candidates = all.flatMap((target) => {
      const url = URL.canParse(target.scrapeUrl) ? new URL(target.scrapeUrl) : undefined;
      return url && portOf(url) === portOf(pushgateway) ? [{ target, host: url.hostname }] : [];
    });
    // Each name resolved once, all at once: a long list of targets costs one lookup's time at most.
    const hosts = [...new Set([pushgateway.hostname, ...candidates.map(({ host }) => host)])];
    const addresses = new Map(await Promise.all(hosts.map(async (host) => [host, await addressesOf(host)] as const)));
    const own = ownAddresses();
    const local = (list: readonly string[]) => list.some((address) => own.has(address) || address.startsWith('127.'));
    const wanted = addresses.get(pushgateway.hostname)!;
    const matches = candidates
      .filter(({ host }) => {
        const theirs = addresses.get(host)!;
        return theirs.some((address) => wanted.includes(address)) || (local(theirs) && local(wanted));
      })
      .map(({ target }) => target);
    // A Prometheus just (re)loaded lists its targets, and scrapes them first, only after a few seconds.
    if (matches.some(({ health }) => health !== 'unknown') || Date.now() > deadline)
      return { matches, others: all.filter((target) => !matches.includes(target)) };
    await sleep(500);
  }
}

function portOf(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

/** This machine's own addresses: a name for any of them (localhost, 127.0.1.1, its LAN address) is this host. */
function ownAddresses(): Set<string> {
  const own = new Set(['::1', 'localhost']);
  for (const list of Object.values(networkInterfaces())) for (const { address } of list ?? []) own.add(address);
  return own;
}

/** A host's addresses: an address or localhost as it is; a name looked up, within 2 s. */
async function addressesOf(host: string): Promise<string[]> {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(bare) || bare === 'localhost') return [bare];
  let timer: NodeJS.Timeout | undefined;
  const resolved = await Promise.race([
    lookup(bare, { all: true }).then(
      (found) => found.map(({ address }) => address),
      () => [],
    ),
    new Promise<string[]>((resolve) => {
      timer = setTimeout(resolve, 2000, []);
    }),
  ]);
  clearTimeout(timer);
  return [bare, ...resolved];
}

/** A PromQL string literal: JSON's escapes are a subset of PromQL's. */
function quoted(value: string): string {
  return JSON.stringify(value);
}

interface Arrival {
  /** The sticks whose series of this push are not in Prometheus with their own job, instance and labels. */
  readonly missing: readonly Target[];
  /** A stick's series of this push that came through a scrape job without honor_labels, if one did. */
  readonly renamed?: Series;
}

/**
 * What the Pushgateway holds for the pushed sticks: push_time_seconds of each one's group, by
 * instance. Series in Prometheus with that very value come from this Pushgateway and this push, not
 * from another Pushgateway or an earlier run under the same labels.
 */
export type PushTimes = ReadonlyMap<string, number>;

/** One look at the sticks' series in Prometheus: under their own labels, and under exported_ ones. */
async function arrival(
  side: PrometheusSide,
  pushgateway: Pushgateway,
  pushed: readonly Target[],
  pushTimes: PushTimes,
): Promise<Arrival> {
  const job = quoted(pushgateway.job);
  const [up, own, exported] = await Promise.all([
    side.api.query(`trucki_up{job=${job}}`),
    side.api.query(`push_time_seconds{job=${job}}`),
    side.api.query(`push_time_seconds{exported_job=${job}}`),
  ]);
  const labelsOf = (target: Target) => [['instance', target.instance], ...target.labels, ...pushgateway.grouping];
  const has = (series: Series, labels: readonly (readonly string[])[], prefix: string) =>
    labels.every(([name, value]) => series.metric[`${prefix}${name!}`] === value);
  const ofThisPush = (series: Series, target: Target) => {
    const time = pushTimes.get(target.instance);
    return time === undefined || Math.abs(series.value - time) < 1e-3;
  };
  const arrived = (target: Target) =>
    up.some((series) => has(series, labelsOf(target), '') && series.metric.exported_instance === undefined) &&
    own.some((series) => has(series, labelsOf(target), '') && ofThisPush(series, target));
  const renamed = exported.find((series) =>
    pushed.some((target) => has(series, [['instance', target.instance]], 'exported_') && ofThisPush(series, target)),
  );
  return { missing: pushed.filter((target) => !arrived(target)), ...(renamed && { renamed }) };
}

function renamedStep(series: Series, scrapeJob: (jobLabel: string) => string): Step {
  const { job = '', instance = '' } = series.metric;
  return failed(
    `the sticks' series reach Prometheus as job="${clip(job)}", instance="${clip(instance)}" (their own moved to ` +
      `exported_job, exported_instance): add \`honor_labels: true\` to ${scrapeJob(job)}`,
  );
}

/** How long this push's series may take to show after it: about two scrape intervals. */
function waitFor(intervalSeconds: number): number {
  return Math.min(2 * intervalSeconds * 1000 + 2000, maxWaitMs);
}

/**
 * Looks until every stick's series of this push arrived, or a renamed one did, or `until`. With
 * `untilRenamed` (several scrape jobs take the Pushgateway), the one that renames may scrape last:
 * only a renamed series or `until` ends the look.
 */
async function awaitArrival(
  side: PrometheusSide,
  pushgateway: Pushgateway,
  pushed: readonly Target[],
  pushTimes: PushTimes,
  until: number,
  untilRenamed = false,
): Promise<Arrival> {
  for (;;) {
    const seen = await arrival(side, pushgateway, pushed, pushTimes);
    if (seen.renamed || (seen.missing.length === 0 && !untilRenamed) || Date.now() > until) return seen;
    await sleep(500);
  }
}

/**
 * The sticks' series of this push with their own job and instance, waited for about two scrape
 * intervals. Found (also) with exported_job / exported_instance, a scrape job lacks honor_labels.
 */
async function seriesStep(
  side: PrometheusSide,
  pushgateway: Pushgateway,
  pushed: readonly Target[],
  { pushedAt, pushTimes, scrapedBy }: { pushedAt: number; pushTimes: PushTimes; scrapedBy: readonly ScrapeTarget[] },
  job: string,
  scrapeJob: (jobLabel: string) => string,
): Promise<Step> {
  // The slowest of the scrape jobs that take the Pushgateway sets how long the series may take.
  const intervalSeconds = Math.max(
    ...scrapedBy.map(({ scrapeInterval }) => durationSeconds(scrapeInterval ?? '') ?? 60),
  );
  if (pushed.length === 0)
    return unchecked("no stick was pushed: whether the sticks' series reach Prometheus is not checked");
  let seen: Arrival;
  try {
    const until = pushedAt + waitFor(intervalSeconds);
    seen = await awaitArrival(side, pushgateway, pushed, pushTimes, until, scrapedBy.length > 1);
  } catch (error) {
    return unreachable(side, error, "whether the sticks' series arrive");
  }
  if (seen.renamed) return renamedStep(seen.renamed, scrapeJob);
  if (seen.missing.length === 0) {
    const example = `trucki_up{job="${pushgateway.job}", instance="${pushed[0]!.instance}"}`;
    return ok(`the sticks' series reach Prometheus with their own job and instance, e.g. ${example}`);
  }
  const names = seen.missing.map(({ instance }) => instance).join(', ');
  return failed(
    `this push's series of ${names} (trucki_up{job="${pushgateway.job}"}, push_time_seconds) are not in Prometheus ` +
      `${Math.round((Date.now() - pushedAt) / 1000)} s after the push: does a relabelling of the ${job} drop or rename them?`,
  );
}

/** The shipped rules loaded and healthy, and the Trucki alerts firing now. */
export async function rulesAndAlerts(side: PrometheusSide, say: (step: Step) => Promise<void>): Promise<void> {
  const rules = await rulesStep(side);
  await say(rules);
  if (rules.mark === 'unchecked') return;
  let alerts;
  try {
    alerts = await side.api.alerts();
  } catch (error) {
    await say(unreachable(side, error, 'the Trucki alerts'));
    return;
  }
  const trucki = alerts.filter(({ labels }) => labels.alertname?.startsWith('Trucki'));
  const firing = trucki.filter(({ state }) => state === 'firing');
  for (const { labels } of firing) {
    const about = ['job', 'instance', 'inverter']
      .filter((name) => labels[name] !== undefined)
      .map((name) => `${name}="${clip(labels[name]!)}"`)
      .join(', ');
    await say(failed(`alert ${clip(labels.alertname!)} is firing${about ? ` for ${about}` : ''}`));
  }
  if (firing.length === 0) {
    const pending = trucki.length
      ? ` (${trucki.length} pending: ${clip([...new Set(trucki.map(({ labels }) => labels.alertname!))].join(', '))})`
      : '';
    await say(ok(`no Trucki alert is firing${pending}`));
  }
}

async function rulesStep(side: PrometheusSide): Promise<Step> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    let rules;
    try {
      rules = await side.api.rules();
    } catch (error) {
      return unreachable(side, error, 'the rules');
    }
    if (rules.length === 0 && side.victoriametrics) {
      return unchecked(
        `VictoriaMetrics ${side.shown} shows no rules: they run in a vmalert; the rules and alerts are not checked ` +
          '(start VictoriaMetrics with -vmalert.proxyURL to show them, or give the vmalert as --prometheus-url)',
      );
    }
    const ours = rules.filter(({ name }) => (shippedRules as readonly string[]).includes(name));
    if (ours.length === 0) {
      return failed(
        `the shipped rules are not loaded in Prometheus ${side.shown}: copy deploy/prometheus/trucki-rules.yml ` +
          'beside prometheus.yml, name it under rule_files: and reload Prometheus',
      );
    }
    const broken = ours.filter(
      ({ health, lastError }) => (health !== 'ok' && health !== 'unknown') || lastError !== '',
    );
    if (broken.length > 0) {
      return failed(
        broken
          .map(
            ({ name, group, lastError, health }) =>
              `rule ${name} (group ${clip(group)}) fails: ${clip(lastError) || health}`,
          )
          .join('; '),
      );
    }
    const missing = shippedRules.filter((name) => !ours.some((rule) => rule.name === name));
    if (missing.length > 0) {
      return failed(
        `Prometheus has an older or partial copy of the shipped rules: ${missing.join(', ')} missing; ` +
          'copy deploy/prometheus/trucki-rules.yml again and reload',
      );
    }
    // Loaded but not evaluated yet: wait for one evaluation.
    if (ours.every(({ health }) => health === 'ok') || Date.now() > deadline) {
      const groups = clip([...new Set(ours.map(({ group }) => group))].join(', '));
      return ok(`the shipped rules are loaded and healthy (groups ${groups})`);
    }
    await sleep(500);
  }
}

/**
 * A server's text, at most 300 characters: Prometheus's many-to-many errors list whole series, and
 * a label value or a scrape job's name may be of any length.
 */
function clip(message: string): string {
  return message.length > 300 ? `${message.slice(0, 297)}...` : message;
}
