/** check's verdicts on what Prometheus answered, as pure functions: where this push's series arrived, what to do. */
import type { Grouping, Pushgateway, Target } from '../config/types.js';
import type { Sample } from '../parse.js';
import { groupPath } from '../sinks/pushgateway-api.js';
import type { Alert, ScrapeTarget, Series } from './prometheus-api.js';
import { clip } from './report.js';

/** A stick as this check delivered it: its labels in the store and its samples. */
export interface DeliveredStick {
  readonly target: Target;
  readonly instance: string;
  readonly labels: Grouping; // job, instance, the stick's own labels and the grouping labels
  readonly samples: readonly Sample[];
  readonly pushTime?: number; // push_time_seconds of this push, by the Pushgateway's clock, if read back
  readonly readAt?: number; // Unix ms, if it answered
}

export type Arrival = ReturnType<typeof arrivalOf>;

/** A PromQL selector of exactly these labels: `{job="trucki",instance="roof"}`. */
export function selector(labels: Grouping): string {
  return `{${labels.map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(',')}}`;
}

/** Whether `series` has each of `labels`; an empty value: the label absent, as in Prometheus. */
const hasLabels = (series: Series, labels: Grouping) =>
  labels.every(([name, value]) => (series.metric[name] ?? '') === value);

/** Of this push or later: push_time_seconds at least this push's (on the Pushgateway's clock). */
const fresh = (series: Series, stick: DeliveredStick) =>
  stick.pushTime === undefined || series.value >= stick.pushTime - 1e-3;

const unexported = Object.entries({ exported_job: '', exported_instance: '' });

/** From push_time_seconds under {job=<the job>} (`own`) and {exported_job=<the job>} (no honor_labels), and trucki_up
 * under each Pushgateway target's labels: the sticks whose series of this push (or later) are `missing` under their
 * own labels; the scrape job that gives them its own labels (`moved`: to exported_*).
 */
export function arrivalOf(
  sticks: readonly DeliveredStick[],
  targets: readonly ScrapeTarget[],
  seen: Readonly<Record<'own' | 'exported', readonly Series[]> & { underTarget: readonly (readonly Series[])[] }>,
) {
  const arrived = (stick: DeliveredStick) =>
    seen.own.some((series) => hasLabels(series, [...stick.labels, ...unexported]) && fresh(series, stick));
  const missing = sticks.filter((stick) => !arrived(stick)).map(({ instance }) => instance);
  const index = seen.underTarget.findIndex((found) => found.length > 0);
  if (index >= 0) {
    const target = targets[index]!;
    const moved = seen.underTarget[index]!.some(({ metric }) => metric.exported_instance !== undefined);
    return { missing, renamedBy: { job: target.job, instance: target.instance, target, moved } };
  }
  const renamed = seen.exported.find((series) =>
    sticks.some((stick) => series.metric.exported_instance === stick.instance && fresh(series, stick)),
  );
  if (!renamed) return { missing };
  const { job = '', instance = '' } = renamed.metric;
  const target = targets.find((each) => each.job === job);
  return { missing, renamedBy: { job, instance, ...(target && { target }), moved: true } };
}

/** timestamp() drops a series' name: label_replace keeps it here first. */
const nameLabel = 'trucki_check_name';

/** The time of the newest sample of each series of `labels`, named by nameLabel. */
export function scrapedAtQuery(labels: Grouping): string {
  return `timestamp(label_replace(${selector(labels)}, "${nameLabel}", "$1", "__name__", "(.+)"))`;
}

/** The same in MetricsQL, whose timestamp() keeps the name if asked, and sees no time through label_replace. */
export function importedAtQuery(labels: Grouping): string {
  return `timestamp(${selector(labels)}) keep_metric_names`;
}

/** Of scrapedAtQuery's or importedAtQuery's answer, named again, the series of the scrape that brought the newest
 * push_time_seconds (for an import: at `since`, Unix s, or later): an earlier one is not this delivery's.
 */
export function ofNewestScrape(scrapedAt: readonly Series[], since?: number): Series[] {
  const named = scrapedAt.map(({ metric: { [nameLabel]: name, ...labels }, value }) => ({
    metric: name === undefined ? labels : { ...labels, __name__: name },
    value,
  }));
  const newest = since ?? named.find(({ metric }) => metric.__name__ === 'push_time_seconds')?.value ?? Infinity;
  return named.filter(({ value }) => value >= newest);
}

/** The samples of `stick` that have no series among `arrived`: `trucki_ac_power_watts{inverter="1"}`. */
export function missingSeries(stick: DeliveredStick, arrived: readonly Series[]): string[] {
  return stick.samples.flatMap(({ family, labels }) => {
    const own = Object.entries(labels);
    const found = arrived.some(
      (series) => series.metric.__name__ === family.name && hasLabels(series, [...stick.labels, ...own]),
    );
    return found ? [] : [`${family.name}${own.length ? selector(own) : ''}`];
  });
}

/** What to do when a shipped alert fires, by its name. */
const advice: Readonly<Record<string, string>> = {
  TruckiStickDown:
    "the stick does not answer the job: is it on and reachable from the job's host? (its line above says why)",
  TruckiStickStale:
    'no fresh reading for 5 minutes: is the timer or loop running (systemctl status trucki2pushgateway.timer)?',
  TruckiPushesStopped:
    'nothing pushed this group for 5 minutes: is the timer or loop running, and does it name this stick?',
  TruckiPushFailing: "the Pushgateway refuses the pushes: read why in the job's log (journalctl -u trucki2pushgateway)",
  TruckiPushgatewayDown: 'Prometheus cannot scrape the Pushgateway: start it (systemctl start prometheus-pushgateway)',
  TruckiScrapeWithoutHonorLabels: 'add `honor_labels: true` to that scrape job in prometheus.yml and reload Prometheus',
  TruckiSeriesStopped:
    'nothing of the stick arrives any more: run the job for it; for a stick removed or renamed on purpose ' +
    'it stops firing a day later (silence it in Alertmanager by its instance until then)',
  TruckiInverterHot: "the inverter runs above 70 °C: give it shade and air; see its datasheet's limits",
};

/** A firing alert's line: what fires, for what, and what to do (`forget`: for a group no stick names). */
export function firingText(labels: Alert['labels'], forget: (labels: Alert['labels']) => string | undefined): string {
  const name = labels.alertname ?? '';
  const about = ['job', 'instance', 'inverter']
    .filter((label) => labels[label] !== undefined)
    .map((label) => `${label}="${clip(labels[label]!)}"`)
    .join(', ');
  const command = labels.instance === undefined ? undefined : forget(labels);
  const todo = command
    ? `no stick here is named ${clip(labels.instance!)} any more: forget its group now: ${command}`
    : (advice[name] ?? 'see its description on the Alerts page of Prometheus');
  return `alert ${clip(name)} is firing${about ? ` for ${about}` : ''}: ${todo}`;
}

/** "3 pending: 2 TruckiStickDown, 1 TruckiPushesStopped". */
export function pendingText(pending: readonly Alert[]): string {
  const counts = new Map<string, number>();
  for (const { labels } of pending) counts.set(labels.alertname ?? '', (counts.get(labels.alertname ?? '') ?? 0) + 1);
  const each = [...counts].map(([name, count]) => `${count} ${name}`).join(', ');
  return `${pending.length} pending: ${each}`;
}

/** Labels an alert of the shipped rules carries beyond its group's: its name, its severity, an inverter's. */
const alertOwnLabels = new Set(['alertname', 'severity', 'inverter']);

/** The command that forgets an alert's group if it is one of `unnamed`: every label of the group and no other but
 * alertOwnLabels (another host's group with a site="b" of its own is not it).
 */
export function alertForget(
  pushgateway: Pushgateway,
  unnamed: readonly { readonly grouping: Grouping }[],
): (labels: Alert['labels']) => string | undefined {
  return (labels) => {
    const group = unnamed.find(
      ({ grouping }) =>
        grouping.every(([name, value]) => labels[name] === value) &&
        Object.keys(labels).every((name) => alertOwnLabels.has(name) || grouping.some(([key]) => key === name)),
    );
    return group && forgetCommand(pushgateway, group.grouping);
  };
}

/** The command that deletes a group, with no secret in it: curl asks for the password, or reads a token file. */
export function forgetCommand(pushgateway: Pushgateway, grouping: Grouping): string {
  const { bearerToken, username, ca } = pushgateway;
  const url = new URL(pushgateway.url.href);
  url.username = url.password = '';
  const path = `${url.href.replace(/\/$/, '')}${groupPath(grouping)}`.replace(/'/g, "'\\''");
  const auth = bearerToken !== undefined ? '-H @TOKEN_HEADER_FILE ' : username !== undefined ? '-u USERNAME ' : '';
  const command = `curl -fsS ${auth}${ca === undefined ? '' : '--cacert CA_FILE '}-X DELETE '${path}'`;
  // A grouping value of a megabyte (anyone may push one) makes no command to copy.
  return command.length <= 2000
    ? command
    : "its grouping key is too long for a command: delete it on the Pushgateway's page";
}
