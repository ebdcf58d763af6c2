/**
 * The shapes of the catalogue's rows, and the short builders its tables are written with: a row
 * names a stick key, how its value is read, and the metric family it lands in.
 */
import type { UnitSymbol } from './units.js';

export type Labels = Readonly<Record<string, string>>;

export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
}

interface Row {
  readonly key: string;
  readonly family: Family;
  readonly labels?: Labels;
}
/** A number, possibly in a string, possibly with a unit: 234.2, "1000", "880.10 W", " 0". */
export interface NumberRow extends Row {
  readonly read: 'number';
  readonly unit: UnitSymbol;
}
/** Free text from a known vocabulary, exported as a state set: one sample per state, 1 for the current. */
export interface StateRow extends Row {
  readonly read: 'state';
  readonly label: string;
  readonly states: readonly string[];
}
/** "(ENABLED) 1" / "(DISABLED) 0" as 1 / 0. */
export interface FlagRow extends Row {
  readonly read: 'flag';
}
/** Free text from an unknown vocabulary, exported info-style: the text as a label, value 1. */
export interface TextRow extends Row {
  readonly read: 'text';
  readonly label: string;
}

/**
 * The stick's identity, info-style: `key` (the device name) and the `with` keys as labels, and the
 * variant, the device name's first four letters, value 1.
 */
export interface IdentityRow extends Row {
  readonly read: 'identity';
  readonly label: string;
  readonly with: Labels;
}

export type CatalogueRow = NumberRow | StateRow | FlagRow | TextRow | IdentityRow;

export const gauge = (name: string, help: string): Family => ({ name, help, type: 'gauge' });
export const counter = (name: string, help: string): Family => ({ name, help, type: 'counter' });

export const num = (key: string, unit: UnitSymbol, family: Family, labels?: Labels): NumberRow => ({
  key,
  read: 'number',
  unit,
  family,
  ...(labels && { labels }),
});
export const sun = (n: 1 | 2 | 3): Labels => ({ inverter: `sun${n}` });
/** One family per quantity, the inverter (sun1 to sun3) as a label; null where the stick has no key. */
export const perInverter = (unit: UnitSymbol, family: Family, ...keys: (string | null)[]): NumberRow[] =>
  keys.flatMap((key, index) => (key === null ? [] : [num(key, unit, family, sun((index + 1) as 1 | 2 | 3))]));

export const flag = (key: string, family: Family): FlagRow => ({ key, read: 'flag', family });
export const text = (key: string, label: string, family: Family): TextRow => ({ key, read: 'text', label, family });
export const state = (key: string, label: string, states: readonly string[], family: Family): StateRow => ({
  key,
  read: 'state',
  label,
  states,
  family,
});
