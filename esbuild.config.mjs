// Production build: each entry bundled into one file, so a run loads one module instead of ~100
// (module resolution and loading dominate a one-shot run's cost; see README, Performance).
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: { trucki2pushgateway: 'src/cli.ts', simulator: 'src/simulator/cli.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // prom-client and dotenv are CommonJS and require() Node built-ins, which an ES module has no
  // require for: give the bundle one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  define: { __VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
});
chmodSync('dist/trucki2pushgateway.js', 0o755);
