/** The --help text: the option table between the usage and the exit statuses, at most 100 columns. */
import { exitCodes } from '../errors.js';
import { optionsHelp } from './options.js';

export function helpText(): string {
  const { ok, failed, usage, sticksDark, internal: bug } = exitCodes;
  return `Usage: trucki2pushgateway --target <stick> --pushgateway <url> [options]
       trucki2pushgateway --targets-file <sticks.yml> --victoriametrics <url> [options]
       trucki2pushgateway check [the same options] [--prometheus-url <url>]

Reads each Trucki stick and delivers its readings (to a Prometheus Pushgateway, VictoriaMetrics,
a node_exporter textfile or standard output), once or on a schedule. Flags beat environment
variables, which beat the env file.
A variable marked * may instead come from the file named by <NAME>_FILE (relative to the working
directory), or from the systemd credential <NAME>; setting both is an error.

${optionsHelp}

Exit status: ${ok} every stick read and delivered; ${sticksDark} every delivery made, but a stick could not be read
(off, unreachable, not a Trucki: its trucki_up 0 was delivered); ${failed} something was not delivered; ${usage} a
usage or configuration error; ${bug} a bug. A loop stopped by SIGTERM or SIGINT exits ${ok}, or ${failed} if what it
held could not be delivered.

check makes one real run and asks Prometheus whether all arrived as meant: one line per step,
✓ it holds, ✗ it does not (with what to do), ? it could not be checked. Exit status: 0 every step
✓; 1 a ✗; 2 the configuration is invalid; 3 no ✗, but a step could not be checked.`;
}
