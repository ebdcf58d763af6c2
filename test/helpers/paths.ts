import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from the compiled helpers in build/test/helpers/. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/**
 * The bundled command the CLI tests run. TRUCKI_JOB_BUNDLE points the same compiled tests at
 * another build, e.g. the one before a fix, to show that a test for a defect fails there.
 */
export const jobBundle = process.env.TRUCKI_JOB_BUNDLE || `${repoRoot}dist/trucki2pushgateway.js`;
/** The simulator bundled beside that command (TRUCKI_SIMULATOR_BUNDLE to choose another). */
export const simulatorBundle = process.env.TRUCKI_SIMULATOR_BUNDLE || `${dirname(jobBundle)}/simulator.js`;
