// Production build. A one-shot run is mostly Node starting and loading code, and it is paid every
// 15 to 60 s for years, so this build makes loading cheap. Gains below are one-shot wall time on
// the reference machine, each measured by leaving that one trick out (bench/README.md).
// Altogether: 234 → 137 ms (`node -e 0`: 70 ms), peak RSS 56.8 → 47.0 MiB.
//
//   dist/trucki2pushgateway.js         what users run, self-contained: a small CommonJS launcher
//                                      with the whole program (src + got + prom-client + …)
//                                      inside as one string, which it compiles with vm.Script
//   dist/trucki2pushgateway.codecache  V8's compiled code for that string, made here by a real
//                                      one-shot run (−17 ms); optional: without it, or when this
//                                      Node rejects it, V8 compiles as usual
//   dist/package.json                  {"type": "commonjs"}: a CommonJS entry starts faster than
//                                      an ES module one (−10 ms)
//   dist/simulator.js, simulator.mjs   the stick simulator (an ES module, behind a CommonJS shim)
//
// Each trick below fails this build, every CLI test, or the build check of `npm run bench:short`
// when a dependency or Node update breaks what it relies on; none changes what the program does.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
// `node esbuild.config.mjs --outdir <dir>` builds elsewhere, e.g. to benchmark two builds side by side.
const outdir = resolve(parseArgs({ options: { outdir: { type: 'string', default: 'dist' } } }).values.outdir);
const cacheName = 'trucki2pushgateway.codecache';

// --- Leaving out of the program what it never runs ---------------------------------------------

/**
 * got 14 imports http2-wrapper at the top of core/options.js but touches it only for requests with
 * `http2: true`, which this job never makes. Loading it is dearer than all the rest of got: it
 * loads node:http2 and creates a TLS socket at import time, so a TLS context with the whole CA
 * store (−31 ms, −2 MiB). The stand-in throws on any use, so that a got update that starts
 * to need it for HTTP/1.1 fails every CLI test rather than silently losing a feature.
 */
const withoutHttp2Wrapper = {
  name: 'without-http2-wrapper',
  setup(b) {
    b.onResolve({ filter: /^http2-wrapper$/ }, () => ({ path: 'http2-wrapper', namespace: 'stand-in' }));
    b.onLoad({ filter: /^http2-wrapper$/, namespace: 'stand-in' }, () => ({
      loader: 'js',
      contents: `export default new Proxy({}, { get(_, key) {
        throw new Error('got used http2-wrapper.' + String(key) + ', which esbuild.config.mjs left out of this build');
      } });`,
    }));
  },
};

/** A plugin replacing `pattern` in the dependency file `file`; the build fails if it matches nothing. */
function patch(name, file, pattern, replacement) {
  return {
    name,
    setup(b) {
      b.onLoad({ filter: file }, ({ path }) => {
        const text = readFileSync(path, 'utf8');
        const patched = text.replace(pattern, replacement);
        if (patched === text) throw new Error(`${name}: ${path} no longer holds ${pattern}; see esbuild.config.mjs`);
        return { contents: patched, loader: 'js' };
      });
    },
  };
}

/**
 * @sindresorhus/is (got's type checks) builds two Intl.ListFormat at import time, only to word the
 * message of a failed type assertion. That loads ICU data (−21 ms, −6 MiB). They are built on
 * first use instead.
 */
const lazyListFormat = patch('lazy-list-format', /[\\/]@sindresorhus[\\/]is[\\/]distribution[\\/]index\.js$/,
  /const (andFormatter|orFormatter) = new Intl\.ListFormat\(([^()]*)\);/g,
  (_, name, args) => `let ${name}Made; const ${name} = { format: (list) => (${name}Made ??= new Intl.ListFormat(${args})).format(list) };`);

/**
 * prom-client's index loads all of prom-client: the Pushgateway client, cluster support, the default
 * process metrics and, through them, @opentelemetry/api. src/ uses Registry, Counter and Gauge, so
 * its `import … from 'prom-client'` gets just those three files (−10 ms). A src/ import of anything else
 * fails the build ("No matching export"), and so does a prom-client that moves them.
 */
const promClientCore = {
  name: 'prom-client-core',
  setup(b) {
    b.onResolve({ filter: /^prom-client$/ }, ({ importer }) => (importer.includes('node_modules') ? undefined : { path: 'prom-client', namespace: 'prom-client-core' }));
    b.onLoad({ filter: /^prom-client$/, namespace: 'prom-client-core' }, () => ({
      loader: 'js',
      resolveDir: process.cwd(),
      contents: `export { default as Registry } from 'prom-client/lib/registry.js';
        export { default as Counter } from 'prom-client/lib/counter.js';
        export { default as Gauge } from 'prom-client/lib/gauge.js';`,
    }));
  },
};

/**
 * node:https, node:tls and node:crypto cost about 10 ms to load together, and an http-only job
 * needs none of them. got imports https and tls at the top for https URLs only; cacheable-request
 * imports crypto for got's `cache` option only; got's diagnostics-channel.js imports crypto for
 * randomUUID, to give each request an id for diagnostics_channel subscribers (there are none in
 * this job). Those imports get stand-ins that load the built-in on first use; the request id
 * becomes a random UUID from Math.random, which is as unique. Only these import forms are served:
 * any other import of these built-ins from these files fails the build ("No matching export").
 * src/ imports are left alone: as long as src/http.ts imports node:https itself (for its https
 * keep-alive agent), https, tls and crypto are loaded anyway and these stand-ins save nothing.
 */
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const importers = /[\\/]node_modules[\\/](got[\\/]dist[\\/]source[\\/]core[\\/](options|diagnostics-channel)|cacheable-request[\\/]dist[\\/]index)\.js$/;
    b.onResolve({ filter: /^node:(https|tls|crypto)$/ }, ({ path, importer }) => (importers.test(importer)
      ? { path: /diagnostics-channel/.test(importer) ? 'request-id' : path, namespace: 'lazy-builtin' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, ({ path }) => {
      if (path === 'request-id') {
        return {
          loader: 'js',
          contents: `export function randomUUID() {
            const bytes = Array.from({ length: 16 }, () => Math.floor(Math.random() * 256));
            bytes[6] = (bytes[6] & 0x0f) | 0x40;
            bytes[8] = (bytes[8] & 0x3f) | 0x80;
            const hex = bytes.map((byte) => byte.toString(16).padStart(2, '0')).join('');
            return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' + hex.slice(16, 20) + '-' + hex.slice(20);
          }`,
        };
      }
      let contents = `let loaded; const load = () => (loaded ??= require(${JSON.stringify(path)}));
        export default new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });`;
      if (path === 'node:tls') contents += 'export function checkServerIdentity(...args) { return load().checkServerIdentity(...args); }';
      return { contents, loader: 'js' };
    });
  },
};

/**
 * vm.Script, which the launcher compiles the program with, cannot import(): a dynamic import() of
 * a Node built-in in src/ (a lazy load) becomes a require() on first use instead.
 */
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const lazyBuiltinImports = {
  name: 'lazy-builtin-imports',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, ({ path, kind }) => (kind === 'dynamic-import' && builtins.has(path) ? { path, namespace: 'builtin-import' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'builtin-import' }, ({ path }) => ({ contents: `module.exports = require(${JSON.stringify(path)});`, loader: 'js' }));
  },
};

// --- The program ---------------------------------------------------------------------------------

const shared = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  define: { __VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
};

const built = await build({
  ...shared,
  entryPoints: ['src/cli.ts'],
  outfile: 'program.js',
  write: false,
  metafile: true,
  format: 'cjs',
  // Half the size (−9 ms); the error classes of src/ and got set their names themselves.
  minify: true,
  // import.meta is empty in CommonJS output: make that an error, not a silent undefined.
  logOverride: { 'empty-import-meta': 'error' },
  plugins: [lazyBuiltinImports, withoutHttp2Wrapper, lazyListFormat, promClientCore, lazyBuiltins],
});

const [output] = Object.values(built.metafile.outputs);
// The launcher hands the program Node's require, which can load built-ins only, and vm.Script has
// no loader for import(): anything else left outside the bundle would fail at run time.
for (const { path, kind } of output.imports) {
  if (kind === 'dynamic-import' || !builtins.has(path)) throw new Error(`the program imports ${path} (${kind}) from outside the bundle`);
}
// What the plugins above leave out must stay out, even if a dependency starts to import it by
// another path: a start-up cost coming back is a build failure, not a surprise in the benchmarks.
const leftOut = /node_modules[\\/](http2-wrapper|@opentelemetry|prom-client[\\/](index\.js|lib[\\/](pushgateway|cluster|defaultMetrics)\.js))/;
for (const input of Object.keys(output.inputs)) {
  if (leftOut.test(input)) throw new Error(`${input} is in the program again; see esbuild.config.mjs`);
}

// One function expression, called by the launcher as Node calls a CommonJS module; "use strict"
// because the code was ES modules.
const program = `(function (exports, require, module, __filename, __dirname) { 'use strict';\n${built.outputFiles[0].text.replace(/^#!.*\n/, '')}\n})`;
const programHash = createHash('sha256').update(program).digest('hex');

// --- The launcher --------------------------------------------------------------------------------

/** V8 checks a code cache against its version, its flags and the length of the source only. */
const cacheHeader = `trucki2pushgateway code cache for ${programHash}`.padEnd(127) + '\n';

const launcher = (tail = '') => `#!/usr/bin/env -S node --
// The "--" above: Node 20 reads --env-file even after the script name and exits 9 on a missing
// file before our code runs; options after "--" are left to the script.
//
// Generated by esbuild.config.mjs from src/; do not edit. The program is the string at the end of
// this file. It is compiled with ${cacheName} from beside this file, the V8 code cache that
// the build made for it, if that cache was made for this very program and this Node accepts it
// (same Node version and V8 flags); otherwise V8 compiles the program as usual.
// TRUCKI_CODE_CACHE_REPORT=1 says which, on stderr.
'use strict';
const { readFileSync } = require('node:fs');
const { Script } = require('node:vm');

const cacheHeader = ${JSON.stringify(cacheHeader)};
let cache = 'absent';
let cachedData;
try {
  const file = readFileSync(\`\${__dirname}/${cacheName}\`);
  if (file.toString('latin1', 0, cacheHeader.length) === cacheHeader) cachedData = file.subarray(cacheHeader.length);
  else cache = 'made for another build';
} catch {
  // No cache: compile from source.
}
// The same name as when the cache was made (V8 keeps that one in stack traces), wherever installed.
const script = new Script(program(), { filename: 'trucki2pushgateway.js', cachedData });
if (process.env.TRUCKI_CODE_CACHE_REPORT) {
  if (cachedData) cache = script.cachedDataRejected ? 'rejected by this Node' : 'accepted';
  process.stderr.write(\`trucki2pushgateway: code cache \${cache}\\n\`);
}
script.runInThisContext()(exports, require, module, __filename, __dirname);
${tail}
function program() {
  return ${JSON.stringify(program)};
}
`;

mkdirSync(outdir, { recursive: true });
// A cache is only written by a training run that succeeded, for this very program.
rmSync(join(outdir, cacheName), { force: true });
writeFileSync(join(outdir, 'package.json'), `${JSON.stringify({
  type: 'commonjs',
  description: 'Generated by esbuild.config.mjs: the .js files here are CommonJS, which Node starts faster than an ES module.',
}, null, 2)}\n`);
const launcherFile = join(outdir, 'trucki2pushgateway.js');
writeFileSync(launcherFile, launcher());
chmodSync(launcherFile, 0o755);

// --- The simulator: an ES module (top-level await) behind a CommonJS shim ----------------------

await build({ ...shared, entryPoints: ['src/simulator/cli.ts'], outfile: join(outdir, 'simulator.mjs'), format: 'esm' });
writeFileSync(join(outdir, 'simulator.js'), `#!/usr/bin/env node
// Generated by esbuild.config.mjs: the .js files of dist/ are CommonJS, the simulator an ES module.
import('./simulator.mjs');
`);

// --- The code cache: V8's code for the program after a real one-shot run -------------------------

await makeCodeCache();

/**
 * Runs the launcher once, from a temp directory, against a simulated stick and a stand-in
 * Pushgateway that takes every push, and saves what V8 compiled for the program by the end of
 * that run: loading, configuration, a GET, parsing, a registry, a PUT. The cache is only good for
 * the Node that made it: build with the Node that will run the job (README, Performance).
 */
async function makeCodeCache() {
  const simulator = await build({ ...shared, entryPoints: ['src/simulator/server.ts'], outfile: 'server.mjs', write: false, format: 'esm' });
  const { startSimulator } = await import(`data:text/javascript;base64,${Buffer.from(simulator.outputFiles[0].text).toString('base64')}`);
  const stick = await startSimulator({ variant: 'T2SG' });
  const pushgateway = createServer((request, response) => {
    request.resume().on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success","data":[]}'));
  });
  await new Promise((done) => pushgateway.listen(0, '127.0.0.1', done));
  const dir = mkdtempSync(join(tmpdir(), 'trucki2pushgateway-build-'));
  try {
    const cacheFile = join(outdir, cacheName);
    const trainer = join(dir, 'trainer.cjs');
    writeFileSync(trainer, launcher(`process.once('exit', () => require('node:fs').writeFileSync(${JSON.stringify(cacheFile)}, Buffer.concat([Buffer.from(cacheHeader, 'latin1'), script.createCachedData()])));`));
    const args = ['--', trainer, '--target', stick.url, '--pushgateway', `http://127.0.0.1:${pushgateway.address().port}`];
    const { code, stderr } = await new Promise((done) => {
      // An empty directory and environment: no .env of the developer's may steer the run.
      const child = spawn(process.execPath, args, { cwd: dir, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
      let stderr = '';
      child.stderr.on('data', (chunk) => { stderr += chunk; });
      child.on('close', (code, signal) => done({ code: code ?? signal, stderr }));
    });
    if (code !== 0) throw new Error(`code cache: the training run ended with ${code}:\n${stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await stick.close();
    pushgateway.close();
  }
}
