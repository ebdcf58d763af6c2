// npm's `prepare`: builds dist/ (esbuild.config.mjs) wherever npm makes a package of this
// repository: `npm pack`, `npm publish`, `npm install` in a clone, and `npm install -g <git url>`.
//
// The last needs care. npm prepares a git dependency by running `npm install --include=dev` in a
// temp clone, but passes its own npm_config_global=true on (npm/cli#8440, open). That install then
// (1) puts the dev dependencies (esbuild) into the global prefix, not the clone, so they are
// installed into the clone here, from the lock file; and (2) unless --install-links is given, links
// the global package to the temp clone, which npm deletes afterwards: exit 0, and a command that
// points nowhere. That case stops here with one line saying what to run instead.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (process.env.npm_config_global === 'true') {
  if (process.env.npm_config_install_links !== 'true') {
    process.stderr.write(
      'trucki2pushgateway: install from git with `npm install -g --install-links <url>` (npm/cli#8440)\n',
    );
    process.exit(1);
  }
  if (!existsSync('node_modules/esbuild') && process.env.npm_execpath) {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) =>
          !/^npm_config_(global|prefix|global_prefix|globalconfig|local_prefix|allow_scripts|install_links)$/i.test(
            name,
          ),
      ),
    );
    // --ignore-scripts: this very script would run again.
    execFileSync(
      process.execPath,
      [process.env.npm_execpath, 'ci', '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund'],
      { env, stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
}
if (!existsSync('node_modules/esbuild')) {
  process.stderr.write('trucki2pushgateway: building dist/ needs the dev dependencies: run `npm ci` first\n');
  process.exit(1);
}
await import('../esbuild.config.mjs');
