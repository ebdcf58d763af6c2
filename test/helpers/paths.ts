import { fileURLToPath } from 'node:url';

/** The repository root, from the compiled helpers in build/test/helpers/. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const jobBundle = `${repoRoot}dist/trucki2pushgateway.js`;
