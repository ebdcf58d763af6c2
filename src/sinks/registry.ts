/**
 * The one list of sinks. A new sink is its own module exporting a SinkKind, plus one line here.
 * The configuration's choice picks the first kind that says it was chosen, so standard output,
 * which a configuration with no store chooses, comes last.
 */
import { pushgateway } from './pushgateway.js';
import type { ChosenSink, SinkKind } from './sink.js';
import { stdout } from './stdout.js';
import { textfile } from './textfile.js';
import { victoriaMetrics } from './victoriametrics.js';
import type { Config } from '../config/types.js';

export const sinkKinds: readonly SinkKind[] = [pushgateway, victoriaMetrics, textfile, stdout];

/** The kind of sink the configuration chose among `kinds`, and the sink it chose. */
export function chooseSink(config: Config, kinds: readonly SinkKind[]): { kind: SinkKind; chosen: ChosenSink } {
  for (const kind of kinds) {
    const chosen = kind.choose(config);
    if (chosen) return { kind, chosen };
  }
  throw new Error('no sink was chosen');
}
