/**
 * The units the stick writes next to its numbers, each to a Prometheus base unit: a value in another unit of
 * its row's dimension ("0.012 s" for "12 ms") is converted, one of another dimension refused.
 */
interface Unit {
  readonly base: 'volts' | 'amperes' | 'watts' | 'seconds' | 'joules' | 'celsius' | 'ratio' | 'none';
  /** value × factor ÷ divisor is the value in the base unit. Sub-units divide, so that 12 ms is exactly 0.012. */
  readonly factor: number;
  readonly divisor: number;
}

export const units = {
  V: { base: 'volts', factor: 1, divisor: 1 },
  A: { base: 'amperes', factor: 1, divisor: 1 },
  W: { base: 'watts', factor: 1, divisor: 1 },
  kW: { base: 'watts', factor: 1e3, divisor: 1 },
  ms: { base: 'seconds', factor: 1, divisor: 1000 },
  s: { base: 'seconds', factor: 1, divisor: 1 },
  min: { base: 'seconds', factor: 60, divisor: 1 },
  Wh: { base: 'joules', factor: 3600, divisor: 1 },
  kWh: { base: 'joules', factor: 3.6e6, divisor: 1 },
  '°C': { base: 'celsius', factor: 1, divisor: 1 },
  '%': { base: 'ratio', factor: 1, divisor: 100 },
  /** Plain numbers: status codes, counts. */
  '': { base: 'none', factor: 1, divisor: 1 },
} as const satisfies Record<string, Unit>;

export type UnitSymbol = keyof typeof units;

// Looked up case-insensitively: firmware has been seen writing units in either case.
const bySymbol = new Map<string, Unit>(Object.entries(units).map(([symbol, unit]) => [symbol.toLowerCase(), unit]));
bySymbol.set('c', units['°C']);

export function unitOf(symbol: string): Unit | undefined {
  return bySymbol.get(symbol.toLowerCase());
}
