/**
 * The environment for an npm the suite starts: what npm needs from the caller's to reach the
 * registry as the caller's own npm does (a proxy, a CA, npm's config in npm_config_* and in HOME's
 * .npmrc), and nothing of the job's own settings (a developer's PUSHGATEWAY_URL stays out of a
 * test). Left out too: npm_config_local_prefix, which an enclosing `npm test` sets to this repo.
 */
const needed =
  /^(PATH|HOME|USER|LOGNAME|TMPDIR|LANG|LC_[A-Z_]+|XDG_CONFIG_HOME|XDG_CACHE_HOME|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|(HTTP|HTTPS|NO|ALL)_PROXY)$|^NPM_CONFIG_/i;

export function npmEnv(
  extra: Readonly<Record<string, string>> = {},
  from: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const kept = Object.entries(from).filter(
    (entry): entry is [string, string] =>
      entry[1] !== undefined && needed.test(entry[0]) && entry[0].toLowerCase() !== 'npm_config_local_prefix',
  );
  return { PATH: '/usr/local/bin:/usr/bin:/bin', ...Object.fromEntries(kept), ...extra };
}
