/** At most `n` tasks at once; the rest wait their turn in order. */
export type Limit = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimit(n: number): Limit {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next task, if any, so that `running` never overshoots.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
