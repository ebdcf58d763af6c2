/** The --help text, rendered from the option table. */
import { exitCodes } from '../errors.js';
import { optionSpecs, type OptionSpec } from './options.js';

/** The --help text, at most 100 columns wide: option and variable on one line, what it does below. */
export function helpText(): string {
  const { ok, failed, usage, sticksDark, internal } = exitCodes;
  const options = Object.values(optionSpecs as Record<string, OptionSpec>).flatMap((spec) => {
    const flag = spec.flag
      ? `${spec.short ? `-${spec.short}, ` : ''}--${spec.flag}${spec.arg ? ` <${spec.arg}>` : ''}`
      : '';
    const env = spec.env ? `${spec.env}${spec.file ? '*' : ''}` : '';
    return [`  ${[flag, env].filter(Boolean).join('  |  ')}`, ...wrap(spec.help, 92).map((line) => `        ${line}`)];
  });
  return [
    'Usage: trucki2pushgateway --target <stick> --pushgateway <url> [options]',
    '       trucki2pushgateway --targets-file <sticks.yml> --victoriametrics <url> [options]',
    '       trucki2pushgateway check [the same options] [--prometheus-url <url>]',
    '',
    'Reads each Trucki stick and delivers its readings (to a Prometheus Pushgateway, VictoriaMetrics,',
    'a node_exporter textfile or standard output), once or on a schedule. Flags beat environment',
    'variables, which beat the env file.',
    'A variable marked * may instead come from the file named by <NAME>_FILE (relative to the working',
    'directory), or from the systemd credential <NAME>; setting both is an error.',
    '',
    ...options,
    '',
    ...wrap(
      `Exit status: ${ok} every stick read and delivered; ${sticksDark} every delivery made, but a stick ` +
        `could not be read (off, unreachable, not a Trucki: its trucki_up 0 was delivered); ${failed} something ` +
        `was not delivered; ${usage} a usage or configuration error; ${internal} a bug. A loop stopped by ` +
        `SIGTERM or SIGINT exits ${ok}, or ${failed} if what it held could not be delivered.`,
      100,
    ),
    '',
    'check makes one real run and asks Prometheus whether all arrived as meant: one line per step,',
    '✓ it holds, ✗ it does not (with what to do), ? it could not be checked. Exit status: 0 every step',
    '✓; 1 a ✗; 2 the configuration is invalid; 3 no ✗, but a step could not be checked.',
  ].join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line];
}
