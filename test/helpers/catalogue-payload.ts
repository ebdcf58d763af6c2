/** A plausible value for every /jsonlive catalogue key, for tests of what the catalogue produces. */
import { liveCatalogue, type CatalogueRow } from '../../src/catalogue.js';
import type { Payload } from '../../src/parse.js';
import type { UnitSymbol } from '../../src/units.js';

/** A plausible value for each row, in the encodings the doc shows. */
function plausible(row: CatalogueRow): unknown {
  switch (row.read) {
    case 'state':
      return row.states[0]!.toUpperCase().replace(/_/g, ' ');
    case 'flag':
      return '(ENABLED) 1';
    case 'text':
      return 'CHARGING';
    case 'number': {
      const byUnit: Record<UnitSymbol, unknown> = {
        V: 234.2,
        A: 12.47,
        W: '880.10 W',
        kW: 1.2,
        ms: '12 ms',
        s: 30,
        min: 5,
        Wh: 400,
        kWh: 0.4,
        '°C': 57,
        '%': 95,
        '': ' 0',
      };
      return byUnit[row.unit];
    }
  }
}

export function fullPayload(): Payload {
  return Object.fromEntries(liveCatalogue.map((row) => [row.key, plausible(row)]));
}
