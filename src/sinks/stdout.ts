/** What would be pushed, stick by stick, in the order the sticks were given: a look before pushing. */
import type { Target } from '../config/types.js';
import { escapeLabelValue, expositionText } from '../exposition.js';
import { errnoCode, SinkFailure } from '../errors.js';
import type { Delivery, Print, Sink, SinkKind } from './sink.js';

/** Chosen by --stdout, or rather by no store being chosen: the registry lists it last. */
export const stdout: SinkKind = {
  name: 'standard output',
  words: { delivered: 'printed', atFlush: true },
  choose: ({ targets }) => ({ endpoints: [], create: ({ print }) => stdoutSink(targets, print) }),
};

export function stdoutSink(targets: readonly Target[], print: Print): Sink {
  const collected = new Map<string, Delivery>();
  return {
    deliver: (delivery) => {
      collected.set(delivery.target.instance, delivery);
      return Promise.resolve();
    },
    flush: async () => {
      const sticks = targets.flatMap(({ instance }) => {
        const delivery = collected.get(instance);
        return delivery ? [delivery] : [];
      });
      collected.clear();
      // The stick's name goes in a comment: escaped, so that it cannot start a line of its own.
      const texts = await Promise.all(
        sticks.map(
          async ({ target, samples }) =>
            `# stick ${escapeLabelValue(target.instance)}\n${await expositionText(samples)}`,
        ),
      );
      await print(texts.join('\n')).catch((error: unknown) => {
        const code = errnoCode(error);
        throw new SinkFailure(
          `standard output could not be written (${
            code === 'EPIPE' ? 'the reading end was closed' : code === 'ENOSPC' ? 'no space left' : (code ?? 'error')
          })`,
        );
      });
    },
  };
}
