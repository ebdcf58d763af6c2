// Production build. A one-shot run is mostly Node starting and loading code, and it is paid every
// 15 to 60 s for years, so this build makes loading cheap, with esbuild's own means only: bundling,
// minifying, define/inject, and plugins that resolve a whole module to a stand-in. Nothing edits a
// dependency's source text, and nothing compiled is shipped: V8's code is only ever cached on the
// machine that runs the job, by the Node that runs it (src/launcher.ts).
// What each part is worth, on Node 20, 22 and 24: bench/README.md (`node bench/builds.mjs`).
//
//   dist/trucki2pushgateway.js   what users run: a small CommonJS launcher (src/launcher.ts) that
//                                starts program.js with V8's code of it from the last start
//   dist/program.js              the whole program (src + got + prom-client + croner + dotenv),
//                                one minified, self-contained CommonJS bundle
//   dist/yaml.js                 the YAML parser, required only for a targets file in YAML
//   dist/THIRD-PARTY-LICENSES.txt the licences of the npm packages bundled into program.js and yaml.js
//   dist/package.json            {"type": "commonjs"}: a CommonJS entry starts faster than an ES one
//   dist/simulator.js, .mjs      the stick simulator (an ES module, behind a CommonJS shim)
//
// `node esbuild.config.mjs [--outdir <dir>] [--without <part>]…` builds elsewhere, or leaves a part
// out, to measure builds side by side (bench/builds.mjs). Parts: scripts/build-parts.mjs.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildParts } from './scripts/build-parts.mjs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const { values: cli } = parseArgs({
  options: { outdir: { type: 'string', default: 'dist' }, without: { type: 'string', multiple: true, default: [] } },
});
const outdir = resolve(cli.outdir);
for (const part of cli.without) {
  if (!buildParts.includes(part)) throw new Error(`--without ${part}: not one of ${buildParts.join(', ')}`);
}
const use = (part) => !cli.without.includes(part);

// --- Leaving out of the program what it never runs ---------------------------------------------

/**
 * Each stand-in below is written for a file of a dependency. If an update moves or drops the import
 * it serves, the stand-in would silently stop applying and its start-up cost come back: so each one
 * names what it must serve in every build of the program, and the build fails (esbuild's onEnd
 * errors) when one of those went unserved. Returns the function that records a use.
 */
function mustServe(b, name, expected) {
  const served = new Set();
  b.onStart(() => {
    served.clear();
  });
  b.onEnd(() => ({
    errors: expected
      .filter((key) => !served.has(key))
      .map((key) => ({
        text: `the ${name} stand-in no longer serves ${key}: the dependency changed; see esbuild.config.mjs and CONTRIBUTING.md`,
      })),
  }));
  return (key) => served.add(key);
}

/** A dependency's file as the stand-ins name it: its path below node_modules, with forward slashes. */
const dependencyFile = (path) => path.replace(/\\/g, '/').replace(/^.*\/node_modules\//, '');

/**
 * got 14 imports http2-wrapper at the top of core/options.js but touches it only for requests with
 * `http2: true`, which this job never makes. Loading it is dearer than all the rest of got: it
 * loads node:http2 and creates a TLS socket at import time, so a TLS context with the whole CA
 * store. The stand-in throws on any use, so that a got update that starts to need it for HTTP/1.1
 * fails every CLI test rather than silently losing a feature.
 */
const withoutHttp2Wrapper = {
  name: 'without-http2-wrapper',
  setup(b) {
    const serve = mustServe(b, 'without-http2-wrapper', ['http2-wrapper from got/dist/source/core/options.js']);
    b.onResolve({ filter: /^http2-wrapper$/ }, ({ importer }) => {
      serve(`http2-wrapper from ${dependencyFile(importer)}`);
      return { path: 'http2-wrapper', namespace: 'stand-in' };
    });
    b.onLoad({ filter: /^http2-wrapper$/, namespace: 'stand-in' }, () => ({
      loader: 'js',
      contents: `export default new Proxy({}, { get(_, key) {
        throw new Error('got used http2-wrapper.' + String(key) + ', which esbuild.config.mjs left out of this build');
      } });`,
    }));
  },
};

/**
 * @sindresorhus/is (got's type checks) builds two Intl.ListFormat at import time, only to word the
 * message of a failed type assertion; that loads ICU data. `define` points every `Intl.ListFormat`
 * of the bundle at a class (injected from scripts/lazy-list-format.js) that builds the real one on
 * first use.
 */
const lazyListFormat = {
  define: { 'Intl.ListFormat': 'LazyListFormat' },
  inject: [resolve('scripts/lazy-list-format.js')],
};

/**
 * prom-client's index loads all of prom-client: the Pushgateway client, cluster support, the default
 * process metrics and, through them, @opentelemetry/api. src/ uses Registry, Counter and Gauge, so
 * its `import … from 'prom-client'` resolves to a stand-in module that exports just those three
 * files. A src/ import of anything else fails the build ("No matching export"), and so does a
 * prom-client that moves them.
 */
const promClientCore = {
  name: 'prom-client-core',
  setup(b) {
    const serve = mustServe(b, 'prom-client-core', ['prom-client from src/']);
    b.onResolve({ filter: /^prom-client$/ }, ({ importer }) => {
      if (importer.includes('node_modules')) return undefined;
      serve('prom-client from src/');
      return { path: 'prom-client', namespace: 'prom-client-core' };
    });
    b.onLoad({ filter: /^prom-client$/, namespace: 'prom-client-core' }, () => ({
      loader: 'js',
      resolveDir: process.cwd(),
      contents: `export { default as Registry } from 'prom-client/lib/registry.js';
        export { default as Counter } from 'prom-client/lib/counter.js';
        export { default as Gauge } from 'prom-client/lib/gauge.js';`,
    }));
  },
};

/** A stand-in's `load()`: requires the module the first time it is called. */
const loadOnFirstUse = (specifier) =>
  `let loaded; const load = () => (loaded ??= require(${JSON.stringify(specifier)}));`;
/** A stand-in whose default export is the module, loaded on first use of any of its properties. */
const lazyNamespace = (specifier) =>
  `${loadOnFirstUse(specifier)}\nexport default new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });`;

/**
 * node:https, node:tls and node:crypto cost about 10 ms to load together, and an http-only job
 * needs none of them. got imports https and tls at the top for https URLs only; cacheable-request
 * imports crypto for got's `cache` option only; got's diagnostics-channel.js imports crypto for
 * randomUUID, to give each request an id for diagnostics_channel subscribers (there are none in
 * this job). Those imports resolve to stand-in modules that load the built-in on first use; the
 * request id becomes a random UUID from Math.random, which is as unique. Only these import forms
 * are served: any other import of these built-ins from these files fails the build ("No matching
 * export"). src/ imports are left alone (src/http.ts loads node:https itself, for https URLs only).
 */
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const importers =
      /[\\/]node_modules[\\/](got[\\/]dist[\\/]source[\\/]core[\\/](options|diagnostics-channel)|cacheable-request[\\/]dist[\\/]index)\.js$/;
    const serve = mustServe(b, 'lazy-builtins', [
      'node:https from got/dist/source/core/options.js',
      'node:tls from got/dist/source/core/options.js',
      'node:crypto from got/dist/source/core/diagnostics-channel.js',
      'node:crypto from cacheable-request/dist/index.js',
    ]);
    b.onResolve({ filter: /^node:(https|tls|crypto)$/ }, ({ path, importer }) => {
      if (!importers.test(importer)) return undefined;
      serve(`${path} from ${dependencyFile(importer)}`);
      return { path: /diagnostics-channel/.test(importer) ? 'request-id' : path, namespace: 'lazy-builtin' };
    });
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
      let contents = lazyNamespace(path);
      if (path === 'node:tls')
        contents += 'export function checkServerIdentity(...args) { return load().checkServerIdentity(...args); }';
      return { contents, loader: 'js' };
    });
  },
};

/**
 * Loading the program loads no network built-in: node:http and node:net, as got and src/http.ts
 * import them, resolve to stand-ins that load the built-in on first use (the first request), and
 * decompress-response and cacheable-lookup, as got imports them, to stand-ins that initialise the
 * module (still bundled: esbuild turns the stand-in's require into a module initialised on first
 * call) when got first calls it. So a run never loads node:dns (cacheable-lookup's, for got's DNS
 * cache, an option the job never sets) and loads node:zlib only when got decompresses an answer.
 * It is also what Node's start-up snapshot builder would need (bench/README.md: not adopted).
 * Only these import forms are served: another named import fails the build ("No matching export").
 */
const lazyNetwork = {
  name: 'lazy-network',
  setup(b) {
    const importers =
      /[\\/](node_modules[\\/]got[\\/]dist[\\/]source[\\/]core[\\/](index|options|timed-out)\.js|src[\\/]http\.ts)$/;
    const serve = mustServe(b, 'lazy-network', [
      'node:http from got/dist/source/core/index.js',
      'node:http from got/dist/source/core/options.js',
      'node:http from src/http.ts',
      'node:net from got/dist/source/core/timed-out.js',
      'decompress-response from got/dist/source/core/index.js',
      'cacheable-lookup from got/dist/source/core/options.js',
    ]);
    b.onResolve(
      { filter: /^(node:(http|net)|decompress-response|cacheable-lookup)$/ },
      async ({ path, importer, resolveDir }) => {
        if (!importers.test(importer)) return undefined;
        serve(`${path} from ${dependencyFile(importer).replace(/^.*[\\/](src[\\/])/, '$1')}`);
        if (path.startsWith('node:')) return { path, namespace: 'lazy-network' };
        // The module itself, for the stand-in's require.
        const real = await b.resolve(path, { kind: 'import-statement', resolveDir });
        if (real.errors.length) return { errors: real.errors };
        return { path, namespace: 'lazy-network', pluginData: { module: real.path } };
      },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-network' }, ({ path, pluginData }) => {
      const resolveDir = process.cwd();
      const load = loadOnFirstUse(pluginData?.module ?? path);
      // A class of the module, made on first use; `instanceof` and statics reach the real one.
      const lazyClass = (get) =>
        `new Proxy(function () {}, { construct: (_, args) => new (${get})(...args), get: (_, key) => (${get})[key] })`;
      if (path === 'decompress-response')
        return {
          loader: 'js',
          resolveDir,
          contents: `${load}\nexport default (response) => load().default(response);`,
        };
      if (path === 'cacheable-lookup')
        return { loader: 'js', resolveDir, contents: `${load}\nexport default ${lazyClass('load().default')};` };
      let contents = lazyNamespace(path);
      if (path === 'node:http')
        contents += `\nexport const Agent = ${lazyClass('load().Agent')};\nexport const ServerResponse = ${lazyClass('load().ServerResponse')};`;
      return { loader: 'js', contents };
    });
  },
};

/**
 * node:fs/promises loads readline and fs watchers with it (1 to 4 ms), and only the textfile sink
 * imports it at load. Its import resolves to a stand-in whose functions load the built-in on first
 * call. Only these names are served: src/sinks/textfile.ts importing another fails the build.
 */
const fsPromisesNames = ['chmod', 'lstat', 'open', 'rename', 'rm', 'writeFile'];
const lazyFsPromises = {
  name: 'lazy-fs-promises',
  setup(b) {
    const serve = mustServe(b, 'lazy-fs-promises', ['node:fs/promises from src/sinks/textfile.ts']);
    b.onResolve({ filter: /^node:fs\/promises$/ }, ({ path, importer }) => {
      if (!/[\\/]src[\\/]sinks[\\/]textfile\.ts$/.test(importer)) return undefined;
      serve(`${path} from src/sinks/textfile.ts`);
      return { path, namespace: 'lazy-fs-promises' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-fs-promises' }, ({ path }) => ({
      loader: 'js',
      contents: [
        loadOnFirstUse(path),
        ...fsPromisesNames.map((name) => `export const ${name} = (...args) => load().${name}(...args);`),
      ].join('\n'),
    }));
  },
};

/**
 * A dynamic import() of a Node built-in in src/ (a lazy load, e.g. node:https) resolves to a
 * stand-in module that require()s it: in a CommonJS program, import() would first start Node's
 * ES module loader, which a one-shot run otherwise never needs.
 */
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const builtinRequire = {
  name: 'builtin-require',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, ({ path, kind }) =>
      kind === 'dynamic-import' && builtins.has(path) ? { path, namespace: 'builtin-require' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin-require' }, ({ path }) => ({
      contents: `module.exports = require(${JSON.stringify(path)});`,
      loader: 'js',
    }));
  },
};

/**
 * The YAML parser serves only a targets file ending in .yml: it lives in dist/yaml.js beside the
 * program, required on first use, so that no other start pays for parsing it (about 4 ms on Node 20).
 */
const yamlApart = {
  name: 'yaml-apart',
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, ({ kind }) =>
      kind === 'dynamic-import' ? { path: 'yaml', namespace: 'yaml-apart' } : undefined,
    );
    b.onResolve({ filter: /^\.\/yaml\.js$/ }, ({ path }) => ({ path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'yaml-apart' }, () => ({
      contents: "module.exports = require('./yaml.js');",
      loader: 'js',
    }));
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

const listFormat = use('lazy-list-format') ? lazyListFormat : { define: {}, inject: [] };
mkdirSync(outdir, { recursive: true });
// What an older build left here: a V8 code cache made on the build machine must never be shipped.
rmSync(join(outdir, 'trucki2pushgateway.codecache'), { force: true });
const built = await build({
  ...shared,
  define: { ...shared.define, ...listFormat.define },
  inject: listFormat.inject,
  entryPoints: ['src/cli.ts'],
  outfile: join(outdir, 'program.js'),
  write: false,
  metafile: true,
  format: 'cjs',
  // Half the size; the error classes of src/ and got set their names themselves.
  minify: use('minify'),
  banner: {
    js: '// Generated by esbuild.config.mjs from src/ and its dependencies; do not edit. Run trucki2pushgateway.js.',
  },
  // import.meta is empty in CommonJS output: make that an error, not a silent undefined.
  logOverride: { 'empty-import-meta': 'error' },
  plugins: [
    use('builtin-require') && builtinRequire,
    use('http2-stand-in') && withoutHttp2Wrapper,
    use('prom-client-core') && promClientCore,
    use('lazy-builtins') && lazyBuiltins,
    use('lazy-network') && lazyNetwork,
    use('lazy-fs-promises') && lazyFsPromises,
    use('yaml-apart') && yamlApart,
  ].filter(Boolean),
});
const yamlBuilt = use('yaml-apart')
  ? await build({
      ...shared,
      stdin: { contents: "module.exports = require('yaml');", resolveDir: process.cwd(), loader: 'js' },
      outfile: join(outdir, 'yaml.js'),
      metafile: true,
      format: 'cjs',
      minify: use('minify'),
    })
  : undefined;
if (!yamlBuilt) rmSync(join(outdir, 'yaml.js'), { force: true });

// Loaded by the launcher, not run itself: without src/cli.ts's #! line, and not executable.
writeFileSync(join(outdir, 'program.js'), built.outputFiles[0].text.replace(/^#!.*\n/, ''), { mode: 0o644 });
chmodSync(join(outdir, 'program.js'), 0o644);

const [output] = Object.values(built.metafile.outputs);
// The program is self-contained: the package installs no dependency, so anything left outside the
// bundle but a Node built-in would fail at run time.
for (const { path, kind } of output.imports) {
  if (!builtins.has(path) && path !== './yaml.js')
    throw new Error(`the program imports ${path} (${kind}) from outside the bundle`);
}
// What the plugins above leave out must stay out, even if a dependency starts to import it by
// another path: a start-up cost coming back is a build failure, not a surprise in the benchmarks.
const leftOut = [
  use('http2-stand-in') && /node_modules[\\/]http2-wrapper[\\/]/,
  use('prom-client-core') &&
    /node_modules[\\/](@opentelemetry|prom-client[\\/](index\.js|lib[\\/](pushgateway|cluster|defaultMetrics)\.js))/,
].filter(Boolean);
for (const input of Object.keys(output.inputs)) {
  if (leftOut.some((pattern) => pattern.test(input)))
    throw new Error(`${input} is in the program again; see esbuild.config.mjs`);
}

// The bundled packages' licences ask for their notices to travel with every copy.
const packages = new Map();
const yamlInputs = yamlBuilt ? Object.values(yamlBuilt.metafile.outputs).flatMap((out) => Object.keys(out.inputs)) : [];
for (const input of [...Object.keys(output.inputs), ...yamlInputs]) {
  const match = /^(.*node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(input);
  if (match && !packages.has(match[1]))
    packages.set(match[1], JSON.parse(readFileSync(join(match[1], 'package.json'), 'utf8')));
}
const notices = [...packages]
  .sort(([, a], [, b]) => a.name.localeCompare(b.name))
  .map(([dir, meta]) => {
    const file = readdirSync(dir).find((name) => /^(licen[cs]e|copying)(\.|$)/i.test(name));
    if (!file) throw new Error(`${meta.name}: no licence file to ship with the bundle`);
    return `${meta.name} ${meta.version} (${meta.license})\n\n${readFileSync(join(dir, file), 'utf8').trim()}\n`;
  });
writeFileSync(
  join(outdir, 'THIRD-PARTY-LICENSES.txt'),
  `dist/program.js and dist/yaml.js bundle these npm packages; their licences follow.\n\n${notices.join(`\n${'-'.repeat(78)}\n\n`)}`,
);

// --- The launcher --------------------------------------------------------------------------------

// src/launcher.ts: V8's code of program.js kept on this machine between starts. `--without
// compile-cache` builds a launcher that only requires the program, to measure what that is worth.
const launcherFile = join(outdir, 'trucki2pushgateway.js');
const launcherBanner = `#!/usr/bin/env -S node --
// The "--" above: Node 20 reads --env-file even after the script name and exits 9 on a missing
// file before our code runs; options after "--" are left to the script.
// Generated by esbuild.config.mjs from src/launcher.ts; do not edit.`;
if (use('compile-cache')) {
  await build({
    ...shared,
    define: {
      ...shared.define,
      __PROGRAM_DIGEST__: JSON.stringify(
        createHash('sha256')
          .update(readFileSync(join(outdir, 'program.js')))
          .digest('hex')
          .slice(0, 16),
      ),
    },
    entryPoints: ['src/launcher.ts'],
    outfile: launcherFile,
    format: 'cjs',
    minify: use('minify'),
    banner: { js: launcherBanner },
  });
} else {
  writeFileSync(launcherFile, `${launcherBanner}\n'use strict';\nrequire('./program.js');\n`);
}
chmodSync(launcherFile, 0o755);
writeFileSync(
  join(outdir, 'package.json'),
  `${JSON.stringify(
    {
      type: 'commonjs',
      description:
        'Generated by esbuild.config.mjs: the .js files here are CommonJS, which Node starts faster than an ES module.',
    },
    null,
    2,
  )}\n`,
);

// --- The simulator: an ES module (top-level await) behind a CommonJS shim ----------------------

await build({
  ...shared,
  entryPoints: ['src/simulator/cli.ts'],
  outfile: join(outdir, 'simulator.mjs'),
  format: 'esm',
});
writeFileSync(
  join(outdir, 'simulator.js'),
  `#!/usr/bin/env node
// Generated by esbuild.config.mjs: the .js files of dist/ are CommonJS, the simulator an ES module.
import('./simulator.mjs');
`,
);
