/** What would be pushed, stick by stick, in the order the sticks were given: a look before pushing. */
import { stickIdentity, type Target } from '../config/types.js';
import { escapeLabelValue, expositionText } from '../exposition.js';
import { errnoCode, SinkFailure } from '../errors.js';
import { oneWriter, type Delivery, type Discard, type Print, type Sink, type SinkKind } from './sink.js';

/** Chosen by --stdout, or rather by no store being chosen: the registry lists it last. */
export const stdout: SinkKind = {
  name: 'standard output',
  choose: ({ targets, schedule }) => ({
    endpoints: [],
    create: ({ print }) => stdoutSink(targets, print, schedule !== undefined),
  }),
};

/** `loop`: printed as readings come (see oneWriter); else once, at close, in the order given. */
function stdoutSink(targets: readonly Target[], print: Print, loop: boolean): Sink & Discard {
  // Each stick's place: in the order given, and a stick a loop's targets file adds later after them.
  const places = new Set(targets.map((target) => stickIdentity(target)));
  const collected = new Map<string, Delivery>();
  const writer = oneWriter(async () => {
    const sticks = [...places].flatMap((key) => collected.get(key) ?? []);
    collected.clear();
    // The stick's name goes in a comment: escaped, so that it cannot start a line of its own.
    const texts = await Promise.all(
      sticks.map(
        async ({ target, samples }) => `# stick ${escapeLabelValue(target.instance)}\n${await expositionText(samples)}`,
      ),
    );
    await print(texts.join('\n')).catch((error: unknown) => {
      const code = errnoCode(error);
      const why = code === 'EPIPE' ? 'the reading end was closed' : code === 'ENOSPC' ? 'no space left' : code;
      throw new SinkFailure(`standard output could not be written (${why ?? 'error'})`);
    });
  }, loop);
  return {
    deliver: (delivery) => {
      const key = stickIdentity(delivery.target);
      places.add(key);
      collected.set(key, delivery);
      return Promise.resolve(writer.take());
    },
    discard: (target) => {
      places.delete(stickIdentity(target));
      collected.delete(stickIdentity(target));
    },
    close: writer.close,
  };
}
