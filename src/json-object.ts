/** A JSON object: not null, not an array. Every stage reads JSON of unknown shape through this one test. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Parsed, each object or array costs some 70 bytes of heap where its text costs 2; no answer we read has more. */
const maxContainers = 100_000;
const maxDepth = 64;

/**
 * Why JSON text within its byte bound is still not to be parsed: 4 MiB of `[{},{},…]` or `[[[…]]]` takes some
 * 200 MB of heap while parsed, beyond a small machine's. A scan of its brackets outside strings.
 */
function costlyJson(text: string): string | undefined {
  let containers = 0;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) {
      if (++containers > maxContainers) return `holds more than ${maxContainers} objects and arrays`;
      if (++depth > maxDepth) return `nests deeper than ${maxDepth} levels`;
    } else if (code === 0x7d || code === 0x5d) depth--;
  }
  return undefined;
}

/** JSON text from another machine, the one way every stage parses it: its value, or why not (costlyJson). */
export function parseJson(text: string): { value: unknown } | { costly: string } | { invalid: true } {
  const costly = costlyJson(text);
  if (costly) return { costly };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { invalid: true };
  }
}
