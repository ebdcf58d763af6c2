// The parts of the production build that `node esbuild.config.mjs --without <part>` can leave
// out, so that bench/builds.mjs can measure what each is worth. One list for both.
export const buildParts = [
  'http2-stand-in',
  'lazy-list-format',
  'prom-client-core',
  'lazy-builtins',
  'lazy-network',
  'lazy-fs-promises',
  'builtin-require',
  'minify',
  'compile-cache',
  'yaml-apart',
];
