/** At most `n` tasks at once; the rest wait their turn in order. */
type Limit = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * `perTurn`: at most that many tasks start in one turn of the event loop. A request costs some 0.3 ms
 * to make: a fleet's 1,000 in one go held the first back half a second, its socket not connecting.
 */
export function createLimit(n: number, perTurn = Infinity): Limit {
  let running = 0;
  const waiting: (() => void)[] = [];
  const pace = createPace(perTurn);
  return async (task) => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      await pace();
      return await task();
    } finally {
      // Hand the slot straight to the next task, if any, so that `running` never overshoots.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

/** Resolves at once for the first `perTurn` callers of a turn, in later turns for the rest, in order. */
function createPace(perTurn: number): () => Promise<void> | undefined {
  if (perTurn === Infinity) return () => undefined;
  let startedThisTurn = 0;
  const waiting: (() => void)[] = [];
  let turnEnds = false;
  const nextTurn = () => {
    const now = waiting.splice(0, perTurn);
    startedThisTurn = now.length;
    for (const start of now) start();
    turnEnds = startedThisTurn > 0;
    if (turnEnds) setImmediate(nextTurn);
  };
  return () => {
    if (!turnEnds) {
      turnEnds = true;
      setImmediate(nextTurn);
    }
    if (startedThisTurn < perTurn && waiting.length === 0) {
      startedThisTurn++;
      return undefined;
    }
    return new Promise<void>((resolve) => waiting.push(resolve));
  };
}
