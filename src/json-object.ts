/** A JSON object: not null, not an array. Every stage reads JSON of unknown shape through this one test. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
