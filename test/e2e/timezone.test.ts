/**
 * TZ as the C library takes it: a POSIX zone of a fixed offset (`UTC0`, `CET-1`, `EST5`), which a
 * one-shot run never minds, works in a loop too, at the offset it names; a POSIX rule with daylight
 * saving time, which Node cannot follow, is refused in words rather than run at the wrong hour.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli, startCli } from '../helpers/cli.js';

const args = ['-t', '127.0.0.1:9', '--stdout', '--retries', '0', '--schedule', '0 0 6 * * *'];

for (const [tz, zone, utcHour] of [
  ['UTC0', 'Etc/GMT', '06'],
  ['CET-1', 'Etc/GMT-1', '05'],
  ['EST5', 'Etc/GMT+5', '11'],
  ['<+03>-3', 'Etc/GMT-3', '03'],
] as const) {
  test(`TZ=${tz}: the loop runs at 06:00 of that offset, as ${zone}`, async () => {
    const loop = await startCli(args, { env: { TZ: tz } });
    try {
      await loop.waitFor(
        new RegExp(
          `scheduled on "0 0 6 \\* \\* \\*" \\(${zone.replace('+', '\\+')}\\); next run \\S+T${utcHour}:00:00\\.000Z`,
        ),
      );
    } finally {
      const { code } = await loop.stop();
      assert.equal(code, 0, loop.stderr());
    }
  });
}

test('TZ with a daylight saving rule is refused in words, naming the zone to use instead', async () => {
  const result = await runCli(args, { env: { TZ: 'CET-1CEST,M3.5.0,M10.5.0/3' } });
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    /^trucki2pushgateway: TZ "CET-1CEST,M3\.5\.0,M10\.5\.0\/3" is a POSIX rule .* name the zone, such as Europe\/Berlin\n$/,
  );
});

test('a one-shot run with the same TZ values is unaffected', async () => {
  for (const tz of ['UTC0', 'CET-1CEST,M3.5.0,M10.5.0/3']) {
    const result = await runCli(['-t', '127.0.0.1:9', '--stdout', '--retries', '0'], { env: { TZ: tz } });
    assert.equal(result.code, 69, result.stderr);
  }
});
