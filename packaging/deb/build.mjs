/**
 * `npm run deb`: the Debian package, architecture all, from dist/ (built just before by
 * esbuild.config.mjs) and deploy/, with Debian's own dpkg-deb (--root-owner-group: every file
 * root's, no fakeroot needed). Prints the package's path as its last line.
 *
 *   /usr/bin/trucki2pushgateway                     the command (a link to the launcher)
 *   /usr/lib/trucki2pushgateway/                    the program: launcher, bundle, package.json
 *   /usr/lib/systemd/system/                        the units; none is enabled or started
 *   /usr/share/trucki2pushgateway/                  the env file's template, which postinst copies to
 *                                                   /etc/trucki2pushgateway/ if absent (not a conffile:
 *                                                   postinst says why)
 *   /usr/share/doc/trucki2pushgateway/              README.md, CONTRIBUTING.md and docs/, laid out as in
 *                                                   the repository, so that their links resolve
 *   /usr/share/doc/trucki2pushgateway/examples/     deploy/'s prometheus/, grafana/ and vmagent/ whole,
 *                                                   the crontab, the env file with every setting
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const repo = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const here = join(repo, 'packaging', 'deb');
const name = 'trucki2pushgateway';
const { version, description } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
// Not a native package: upstream version, Debian revision 1.
const debVersion = `${version}-1`;
const outDir = join(repo, 'build');
const root = join(outDir, 'deb-root');
const deb = join(outDir, `${name}_${debVersion}_all.deb`);
const maintainer = 'trucki2pushgateway authors <maintainers@trucki2pushgateway.invalid>';
// The date of the last commit, so that two builds of one commit are the same package.
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? gitCommitTime() ?? Math.floor(Date.now() / 1000));

function gitCommitTime() {
  try {
    return (
      execFileSync('git', ['log', '-1', '--format=%ct'], {
        cwd: repo,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/**
 * The Debian changelog from CHANGELOG.md (Keep a Changelog): one entry per released version, from
 * package.json's down, each `### Kind` a bullet with its items below, wrapped for lintian (80
 * columns), dated by the entry's date. A version without an entry stops the build: the package
 * would say nothing of what changed.
 */
function debianChangelog(markdown) {
  const entries = [
    ...markdown.matchAll(/^## \[(\d+\.\d+\.\d+[^\]]*)\] - (\d{4}-\d{2}-\d{2})\n([\s\S]*?)(?=^## |(?![\s\S]))/gm),
  ];
  const first = entries.findIndex(([, entryVersion]) => entryVersion === version);
  if (first < 0) {
    process.stderr.write(
      `npm run deb: CHANGELOG.md has no entry "## [${version}] - YYYY-MM-DD" for package.json's version: add one\n`,
    );
    process.exit(1);
  }
  return entries
    .slice(first)
    .map(([, entryVersion, day, body]) => {
      const lines = [];
      for (const [, kind, items] of body.matchAll(/^### (.+)\n([\s\S]*?)(?=^### |(?![\s\S]))/gm)) {
        lines.push(`  * ${kind.trim()}:`);
        for (const item of items.split(/^- /m).slice(1))
          lines.push(
            ...wrap(
              item
                .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
                .replace(/\s+/g, ' ')
                .trim(),
              '    - ',
              '      ',
            ),
          );
      }
      const date = new Date(`${day}T00:00:00Z`).toUTCString().replace(/GMT$/, '+0000');
      return `${name} (${entryVersion}-1) unstable; urgency=medium\n\n${lines.join('\n')}\n\n -- ${maintainer}  ${date}\n`;
    })
    .join('\n');
}

/** `text` in lines of at most 80 columns, the first after `lead`, the others after `indent`. */
function wrap(text, lead, indent) {
  const lines = [];
  let line = lead;
  for (const word of text.split(' ')) {
    if (line.length + word.length + 1 > 80 && line.trim()) {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += `${word} `;
  }
  lines.push(line.trimEnd());
  return lines;
}

/** Writes `contents` (or copies `from`) to `path` under the package root, with `mode`. */
function put(path, { from, contents, mode = 0o644 }) {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  if (from) copyFileSync(from, target);
  else writeFileSync(target, contents);
  chmodSync(target, mode);
}

const gzip = (text) => gzipSync(text, { level: 9 });

// What it needs, said in one line rather than a stack trace.
for (const [tool, why] of [['dpkg-deb', 'Debian package dpkg']]) {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
  } catch {
    process.stderr.write(`npm run deb: ${tool} not found (${why}); build the package on Debian or a derivative\n`);
    process.exit(1);
  }
}
for (const file of [`${name}.js`, 'program.js', 'yaml.js', 'THIRD-PARTY-LICENSES.txt']) {
  try {
    statSync(join(repo, 'dist', file));
  } catch {
    process.stderr.write(`npm run deb: dist/${file} is missing: run \`npm ci\` first\n`);
    process.exit(1);
  }
}

rmSync(root, { recursive: true, force: true });
// One package per build: an earlier build's would match the README's ./build/trucki2pushgateway_*_all.deb too.
mkdirSync(outDir, { recursive: true });
for (const file of readdirSync(outDir)) if (/^trucki2pushgateway_.+\.deb$/.test(file)) rmSync(join(outDir, file));

// --- The program -----------------------------------------------------------------------------------

const lib = `usr/lib/${name}`;
const launcher = readFileSync(join(repo, 'dist', `${name}.js`), 'utf8');
const envShebang = '#!/usr/bin/env -S node --\n';
if (!launcher.startsWith(envShebang)) throw new Error(`dist/${name}.js no longer starts with ${envShebang.trim()}`);
// Debian's node is /usr/bin/node: no env lookup along PATH.
put(`${lib}/${name}.js`, { contents: `#!/usr/bin/node --\n${launcher.slice(envShebang.length)}`, mode: 0o755 });
put(`${lib}/program.js`, { from: join(repo, 'dist', 'program.js') });
put(`${lib}/yaml.js`, { from: join(repo, 'dist', 'yaml.js') });
put(`${lib}/package.json`, { from: join(repo, 'dist', 'package.json') });
mkdirSync(join(root, 'usr/bin'), { recursive: true });
symlinkSync(`../lib/${name}/${name}.js`, join(root, 'usr/bin', name));

for (const unit of readdirSync(join(repo, 'deploy', 'systemd'))) {
  put(`usr/lib/systemd/system/${unit}`, { from: join(repo, 'deploy', 'systemd', unit) });
}
// What an owner sets, short; postinst makes /etc/trucki2pushgateway/trucki2pushgateway.env of it.
put(`usr/share/${name}/${name}.env`, { from: join(here, `${name}.env`) });

// --- Documentation ---------------------------------------------------------------------------------

const doc = `usr/share/doc/${name}`;
put(`${doc}/copyright`, { from: join(here, 'copyright') });
put(`${doc}/THIRD-PARTY-LICENSES.txt.gz`, {
  contents: gzip(readFileSync(join(repo, 'dist', 'THIRD-PARTY-LICENSES.txt'))),
});
// Not compressed, against Policy 12.3's "should" for files over 4 kB: the documents link each
// other by name (README.md -> docs/fleets.md), and a .gz breaks every link. About 100 kB.
const docs = ['README.md', 'CONTRIBUTING.md', ...readdirSync(join(repo, 'docs')).map((file) => `docs/${file}`)];
for (const file of docs.filter((file) => file.endsWith('.md'))) put(`${doc}/${file}`, { from: join(repo, file) });
put(`${doc}/changelog.Debian.gz`, {
  contents: gzip(debianChangelog(readFileSync(join(repo, 'CHANGELOG.md'), 'utf8'))),
});
put(`${doc}/examples/${name}.crontab`, { from: join(repo, 'deploy', 'cron', `${name}.crontab`) });
put(`${doc}/examples/${name}.env.example`, { from: join(repo, '.env.example') });
// Whole directories, so that a file added to one is shipped without a change here.
for (const dir of ['prometheus', 'grafana', 'vmagent']) {
  const walk = (from) => {
    for (const entry of readdirSync(from, { withFileTypes: true })) {
      const path = join(from, entry.name);
      if (entry.isDirectory()) walk(path);
      else put(`${doc}/examples/${relative(join(repo, 'deploy'), path)}`, { from: path });
    }
  };
  walk(join(repo, 'deploy', dir));
}

// The manual page is the program's own --help, so that it never says anything else.
const help = execFileSync(process.execPath, ['--', join(repo, 'dist', `${name}.js`), '--help'], {
  encoding: 'utf8',
  env: { PATH: process.env.PATH ?? '' },
});
const roff = (text) => text.replace(/\\/g, '\\e').replace(/^([.'])/gm, '\\&$1');
put(`usr/share/man/man1/${name}.1.gz`, {
  contents:
    gzip(`.TH ${name.toUpperCase()} 1 "${new Date(epoch * 1000).toISOString().slice(0, 10)}" "${name} ${version}" "User Commands"
.SH NAME
${name} \\- ${roff(description)}
.SH SYNOPSIS
.B ${name}
\\-\\-target \\fIstick\\fR \\-\\-pushgateway \\fIurl\\fR [\\fIoptions\\fR]
.SH DESCRIPTION
.nf
${roff(help.trim())}
.fi
.SH FILES
.TP
/etc/${name}/${name}.env
The environment file of the systemd units (mode 0600: it may hold credentials), made at the first
install from /usr/share/${name}/${name}.env and never changed by an upgrade.
.TP
/usr/share/doc/${name}/examples/
Every setting explained (${name}.env.example), a crontab, the Prometheus scrape job and rules, the
Grafana dashboard and a vmagent unit.
.SH SEE ALSO
/usr/share/doc/${name}/README.md
`),
});
put(`usr/share/lintian/overrides/${name}`, { from: join(here, 'lintian-overrides') });

// --- Control files ---------------------------------------------------------------------------------

let size = 0;
const md5sums = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.isFile()) {
      size += statSync(path).size;
      md5sums.push(`${createHash('md5').update(readFileSync(path)).digest('hex')}  ${relative(root, path)}`);
    }
  }
};
walk(root);
md5sums.sort((a, b) => a.slice(34).localeCompare(b.slice(34)));
put('DEBIAN/control', {
  contents: `Package: ${name}
Version: ${debVersion}
Architecture: all
Maintainer: ${maintainer}
Installed-Size: ${Math.ceil(size / 1024)}
Depends: nodejs (>= 20)
Suggests: prometheus-pushgateway, prometheus
Section: net
Priority: optional
Description: push Trucki solar stick readings to a Prometheus Pushgateway
 trucki2pushgateway reads the live state of Trucki sticks (community firmware
 for zero-export control and surplus charging with Lumentree inverters) over
 HTTP and pushes it to a Prometheus Pushgateway, one short-lived run at a
 time. A systemd timer, a crontab line or its own loop starts it; the timer
 and the loop unit are installed but not enabled.
`,
});
put('DEBIAN/md5sums', { contents: `${md5sums.join('\n')}\n` });
for (const script of ['postinst', 'prerm', 'postrm'])
  put(`DEBIAN/${script}`, { from: join(here, script), mode: 0o755 });

execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, deb], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
});
rmSync(root, { recursive: true, force: true });
process.stdout.write(`${deb}\n`);
