/** What would be pushed, stick by stick, in the order the sticks were given: a look before pushing. */
import { stickIdentity, type Target } from '../config/types.js';
import { escapeLabelValue, expositionText } from '../exposition.js';
import { errnoCode, SinkFailure } from '../errors.js';
import { outcomeToCome, type Delivery, type Discard, type Print, type Sink, type SinkKind } from './sink.js';

/** Chosen by --stdout, or rather by no store being chosen: the registry lists it last. */
export const stdout: SinkKind = {
  name: 'standard output',
  words: { delivered: 'printed' },
  choose: ({ targets }) => ({ endpoints: [], create: ({ print }) => stdoutSink(targets, print) }),
};

export function stdoutSink(targets: readonly Target[], print: Print): Sink & Discard {
  // Each stick's place: in the order given, and a stick a loop's targets file adds later after them.
  const places = new Map(targets.map((target, place) => [stickIdentity(target), place]));
  let nextPlace = targets.length;
  const collected = new Map<string, Delivery>();
  /** The readings the next print takes. */
  let next: ReturnType<typeof outcomeToCome> | undefined;
  return {
    deliver: (delivery) => {
      const key = stickIdentity(delivery.target);
      if (!places.has(key)) places.set(key, nextPlace++);
      collected.set(key, delivery);
      next ??= outcomeToCome();
      return Promise.resolve({ outcome: next.outcome });
    },
    discard: (target) => {
      places.delete(stickIdentity(target));
      collected.delete(stickIdentity(target));
    },
    flush: async () => {
      const taken = next;
      next = undefined;
      const placeOf = ({ target }: Delivery) => places.get(stickIdentity(target)) ?? nextPlace;
      const sticks = [...collected.values()].sort((a, b) => placeOf(a) - placeOf(b));
      collected.clear();
      // The stick's name goes in a comment: escaped, so that it cannot start a line of its own.
      const texts = await Promise.all(
        sticks.map(
          async ({ target, samples }) =>
            `# stick ${escapeLabelValue(target.instance)}\n${await expositionText(samples)}`,
        ),
      );
      await print(texts.join('\n')).then(
        () => taken?.tell(),
        (error: unknown) => {
          const code = errnoCode(error);
          const why = code === 'EPIPE' ? 'the reading end was closed' : code === 'ENOSPC' ? 'no space left' : code;
          taken?.tell(new SinkFailure(`standard output could not be written (${why ?? 'error'})`));
        },
      );
    },
  };
}
