/** What the production build ships; filled in with the launcher. */
import { statSync } from 'node:fs';
import { figure, jobFile, runAlone } from './lib.mjs';

export async function main() {
  return [figure('Size of dist/trucki2pushgateway.js', statSync(jobFile).size / 1024, null, null, 'KiB', 0)];
}
export const checkBuild = main;

await runAlone(import.meta, main);
