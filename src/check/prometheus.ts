/** The Prometheus end: its scrape jobs of this Pushgateway are up, keep every push and honour the pushed labels;
 * every series of this push (or a later one) arrives under the sticks' own job and instance.
 */
import { Cron } from 'croner';
import type { Config, Pushgateway } from '../config/types.js';
import { ConfigError, HttpFailure, HttpStatus, messageOf, NoAnswer } from '../errors.js';
import { durationMs } from '../config/values.js';
import { poll, type PrometheusApi, type ScrapeTarget } from './prometheus-api.js';
import { clip, failed, ok, unchecked, type Step } from './report.js';
import { arrivalOf, missingSeries, ofNewestScrape, scrapedAtQuery, selector } from './series.js';
import type { Arrival, DeliveredStick } from './series.js';

export interface Cadence {
  readonly seconds: number;
  readonly words: string; // "every 15 s (the shipped timer's)"
}

/** The shortest gap between the next few runs of the schedule; a one-shot run is the shipped timer's, 15 s. */
export function pushCadence({ schedule }: Config): Cadence {
  if (!schedule) return { seconds: 15, words: "every 15 s (the shipped timer's)" };
  const { pattern, timezone } = schedule;
  let runs: Date[];
  try {
    // Given no function, croner starts no timer: it only computes.
    runs = new Cron(pattern, { mode: '5-or-6-parts', ...(timezone && { timezone }) }).nextRuns(8);
  } catch (error) {
    throw new ConfigError(`--schedule / SCHEDULE "${pattern}" is not a cron pattern (${messageOf(error)})`);
  }
  if (runs.length < 2) throw new ConfigError(`--schedule / SCHEDULE "${pattern}" never fires twice`);
  const seconds = Math.min(...runs.slice(1).map((run, index) => (run.getTime() - runs[index]!.getTime()) / 1000));
  return { seconds, words: `every ${seconds} s (--schedule "${pattern}")` };
}

/** What every Prometheus step needs: the API, and how to name it. */
export interface PrometheusSide {
  readonly api: PrometheusApi;
  readonly shown: string; // its URL without user info
  readonly named: boolean; // false for the default URL: nothing answering there is "not checked", not "failed"
  readonly victoriametrics: boolean; // its query API shows rules only when it passes the request on to a vmalert
  readonly setting: string; // where its URL and credentials are set, for a 401: "--prometheus-url"
  readonly credentials: boolean; // whether credentials went with the requests
}

/** Bounds of the wait for Prometheus, whatever intervals it reports. */
const maxWaitMs = 5 * 60_000;
/** A Pushgateway is scraped by a job or two; a list of thousands is a Prometheus not worth asking each of. */
const maxTargets = 16;

/** A failed read of Prometheus: nothing answering is unchecked; a wrong answer fails if the user named the URL. */
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

/** The Prometheus steps of the Pushgateway path, each said once known; false if Prometheus did not answer. */
export async function pushgatewaySteps(
  side: PrometheusSide,
  pushgateway: Pushgateway,
  sticks: readonly DeliveredStick[],
  cadence: Cadence,
  say: (step: Step) => Promise<void>,
): Promise<boolean> {
  const wanted = `${pushgateway.url.hostname}:${portOf(pushgateway.url)}`;
  const seen = await awaitSeries(side, pushgateway, sticks).catch((error: unknown) =>
    unreachable(side, error, 'Prometheus'),
  );
  if ('mark' in seen) return say(seen).then(() => false);
  const { targets, arrival } = seen;
  for (const target of targets) {
    await say(targetStep(target, wanted));
    await say(cadenceStep(scrapeJob(target), target.scrapeInterval, cadence));
  }
  if (arrival.renamedBy) {
    const { job, instance, target, moved } = arrival.renamedBy;
    const theirs = moved
      ? 'their own moved to exported_job, exported_instance'
      : "their own dropped: every stick's series collapse into one";
    await say(
      failed(
        `the sticks' series reach Prometheus as job="${clip(job)}", instance="${clip(instance)}" (${theirs}): ` +
          `add \`honor_labels: true\` to ${target ? scrapeJob(target) : `scrape job "${clip(job)}"`}`,
      ),
    );
  } else if (targets.length === 0 && (sticks.length === 0 || arrival.missing.length > 0)) {
    await say(
      failed(
        `Prometheus ${side.shown} has no target for the Pushgateway ${wanted}: add the scrape job of ` +
          `deploy/prometheus/trucki-scrape.yml to prometheus.yml (targets: ['${wanted}'], honor_labels: true) ` +
          'and reload it' +
          (side.named ? '' : ' (or name your Prometheus with --prometheus-url)'),
      ),
    );
  } else {
    if (targets.length === 0)
      await say(
        unchecked(
          `Prometheus ${side.shown} has no target at the Pushgateway's address ${wanted}, yet the sticks' series ` +
            'arrive with their own job and instance: it scrapes the Pushgateway under another name, whose scrape ' +
            'interval is not checked',
        ),
      );
    if (targets.length === 0 || targets.some(({ health }) => health === 'up'))
      await say(await seriesStep(side, pushgateway, sticks, seen));
  }
  return true;
}

const scrapeJob = (target: ScrapeTarget) => `scrape job "${clip(target.scrapePool)}"`;

function targetStep(target: ScrapeTarget, wanted: string): Step {
  const { health, scrapeInterval, lastError } = target;
  const job = scrapeJob(target);
  if (health === 'up')
    return ok(`Prometheus scrapes the Pushgateway ${wanted} (${job}, every ${scrapeInterval ?? '?'}) and it is up`);
  if (health === 'unknown')
    return unchecked(
      `Prometheus's ${job} has not scraped the Pushgateway ${wanted} yet: whether it can is not checked`,
    );
  const why = clip(lastError) || 'Prometheus has not scraped it yet';
  return failed(`Prometheus's ${job} cannot scrape the Pushgateway ${wanted}: ${why}`);
}

function cadenceStep(job: string, shown: string | undefined, cadence: Cadence): Step {
  const ms = durationMs(shown ?? '');
  if (ms === undefined)
    return unchecked(
      `Prometheus does not say the scrape interval of its ${job}: whether it keeps every push is not checked`,
    );
  if (ms / 1000 <= cadence.seconds)
    return ok(`the scrape interval ${shown!} of the ${job} fits the pushes, ${cadence.words}`);
  return failed(
    `the ${job} scrapes every ${shown!}, but the job pushes ${cadence.words}: pushes between two scrapes never reach ` +
      `Prometheus; set scrape_interval: ${cadence.seconds}s (or less) in the ${job}`,
  );
}

const portOf = (url: URL) => url.port || (url.protocol === 'https:' ? '443' : '80');

/** The loopback names made one. */
function address(url: URL): string {
  const name = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return `${name === 'localhost' || name === '::1' || name.startsWith('127.') ? 'loopback' : name}:${portOf(url)}`;
}

/** Prometheus's active targets at the Pushgateway's address: the same port, the same host or both loopback. */
function scrapingTargets(all: readonly ScrapeTarget[], pushgateway: URL): ScrapeTarget[] {
  const at = (scrapeUrl: string) => URL.canParse(scrapeUrl) && address(new URL(scrapeUrl)) === address(pushgateway);
  return all.filter(({ scrapeUrl }) => at(scrapeUrl)).slice(0, maxTargets);
}

interface Seen {
  readonly targets: readonly ScrapeTarget[];
  readonly arrival: Arrival;
  readonly startedAt: number;
}

/** Until the sticks' series arrived under their own labels and every scrape job of the Pushgateway scraped twice
 * more (so once after the push), or one gave them its own labels, or two of the slowest intervals passed.
 */
function awaitSeries(side: PrometheusSide, pushgateway: Pushgateway, sticks: readonly DeliveredStick[]) {
  // Each scrape job's last scrapes seen: the first, and two more.
  const scrapes = new Map<string, Set<string>>();
  const pushed = JSON.stringify(pushgateway.job);
  return poll(async (startedAt): Promise<Seen | undefined> => {
    const all = await side.api.targets();
    const targets = scrapingTargets(all, pushgateway.url);
    const [own, exported, ...underTarget] = await Promise.all([
      side.api.query(`push_time_seconds{job=${pushed}}`),
      side.api.query(`push_time_seconds{exported_job=${pushed}}`),
      ...targets.map(({ job, instance }) => side.api.query(`trucki_up${selector(Object.entries({ job, instance }))}`)),
    ]);
    const times = targets.map(({ scrapePool, scrapeUrl, lastScrape }) => {
      const key = `${scrapePool} ${scrapeUrl}`;
      return scrapes.set(key, (scrapes.get(key) ?? new Set<string>()).add(lastScrape)).get(key)!;
    });
    // One not scraped yet (just added by a reload) is waited for too.
    const scraped = targets.length < 2 || targets.every(({ health }, i) => health === 'down' || times[i]!.size > 2);
    const arrival = arrivalOf(sticks, targets, { own, exported, underTarget });
    const slowestMs = Math.max(0, ...(targets.length ? targets : all).map(intervalMs)) || 15_000;
    // Nothing will arrive through targets that are all down: their lines say why.
    const down = targets.length > 0 && targets.every(({ health }) => health === 'down');
    const done = arrival.renamedBy || (arrival.missing.length === 0 && scraped) || sticks.length === 0 || down;
    const late = Date.now() > startedAt + Math.min(2 * slowestMs + 5000, maxWaitMs);
    return done || late ? { targets, arrival, startedAt } : undefined;
  });
}

const intervalMs = ({ scrapeInterval }: ScrapeTarget) => durationMs(scrapeInterval ?? '') ?? 60_000;

/** Every series of this push arrived, or which did not. */
async function seriesStep(
  side: PrometheusSide,
  pushgateway: Pushgateway,
  sticks: readonly DeliveredStick[],
  { targets, arrival, startedAt }: Seen,
): Promise<Step> {
  const jobs = clip(targets.map(scrapeJob).join(' or ')) || 'scrape job';
  const relabelled = `does a relabelling of the ${jobs} drop or rename them?`;
  if (sticks.length === 0)
    return unchecked("no stick was pushed: whether the sticks' series reach Prometheus is not checked");
  if (arrival.missing.length > 0)
    return failed(
      `this push's series of ${arrival.missing.join(', ')} (trucki_up{job="${pushgateway.job}"}, push_time_seconds) ` +
        `are not in Prometheus ${Math.round((Date.now() - startedAt) / 1000)} s after the push: ${relabelled}`,
    );
  const lost: string[] = [];
  try {
    for (const stick of sticks) {
      const arrived = ofNewestScrape(await side.api.query(scrapedAtQuery(stick.labels)));
      lost.push(...missingSeries(stick, arrived).map((series) => `${stick.instance} ${series}`));
    }
  } catch (error) {
    return unreachable(side, error, 'whether every series of the push arrives');
  }
  if (lost.length > 0)
    return failed(`${lost.length} series of this push are not in Prometheus: ${clip(lost.join(', '))}: ${relabelled}`);
  const example = `trucki_up{job="${pushgateway.job}", instance="${sticks[0]!.instance}"}`;
  return ok(`the sticks' series reach Prometheus with their own job and instance, e.g. ${example}`);
}
