/**
 * At most `n` tasks at once; the rest wait their turn in order. `perTurn`: at most that many start in
 * one turn of the event loop. A request costs some 0.3 ms to make: a fleet's 1,000 in one go held the
 * first back half a second, its socket not connecting.
 */
export function createLimit(n: number, perTurn = Infinity): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  let startedThisTurn = 0;
  let turnEnds = false;
  const waiting: (() => void)[] = [];
  const startNext = () => {
    while (waiting.length > 0 && running < n && startedThisTurn < perTurn) {
      running++;
      startedThisTurn++;
      waiting.shift()!();
    }
    if (perTurn === Infinity || turnEnds || startedThisTurn === 0) return;
    turnEnds = true;
    setImmediate(() => {
      turnEnds = false;
      startedThisTurn = 0;
      startNext();
    });
  };
  return async (task) => {
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
      startNext();
    });
    try {
      return await task();
    } finally {
      running--;
      startNext();
    }
  };
}
