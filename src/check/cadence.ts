/** How often the job pushes, from its schedule, and Prometheus's durations ("1m30s") in seconds. */
import { Cron } from 'croner';
import type { Config } from '../config/types.js';
import { ConfigError, messageOf } from '../errors.js';

/** What the shipped timer (deploy/systemd/trucki2pushgateway.timer) starts a one-shot run at. */
export const timerPeriodSeconds = 15;

export interface Cadence {
  readonly seconds: number;
  /** "every 15 s (the shipped timer's)". */
  readonly words: string;
}

/** The shortest gap between the next few runs of the schedule; a one-shot run is the timer's. */
export function pushCadence({ schedule }: Config): Cadence {
  if (!schedule) return { seconds: timerPeriodSeconds, words: `every ${timerPeriodSeconds} s (the shipped timer's)` };
  let runs: Date[];
  try {
    const cron = new Cron(schedule.pattern, {
      mode: '5-or-6-parts',
      paused: true,
      ...(schedule.timezone && { timezone: schedule.timezone }),
    });
    runs = cron.nextRuns(8);
    cron.stop();
  } catch (error) {
    throw new ConfigError(`--schedule / SCHEDULE "${schedule.pattern}" is not a cron pattern (${messageOf(error)})`);
  }
  if (runs.length < 2) throw new ConfigError(`--schedule / SCHEDULE "${schedule.pattern}" never fires twice`);
  const gaps = runs.slice(1).map((run, index) => (run.getTime() - runs[index]!.getTime()) / 1000);
  const seconds = Math.min(...gaps);
  return { seconds, words: `every ${seconds} s (--schedule "${schedule.pattern}")` };
}
