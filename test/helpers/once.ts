/**
 * The heavy tests (the Debian package, the npm package, arm64 under qemu) install, pack and
 * emulate; what they prove does not depend on which Node runs the test runner, so they run once,
 * on the machine's Node. test/on-node.sh, which runs the suite again on other Node versions, sets
 * TRUCKI_TEST_RERUN=1 and they skip there, saying why.
 */
export const onlyOnce: string | false =
  process.env.TRUCKI_TEST_RERUN === '1'
    ? "heavy test, run once on the machine's Node (this is a test/on-node.sh re-run)"
    : false;
