/**
 * The commands of the README's "## Install" section, in order: every line of its ```sh blocks.
 */
import { readFileSync } from 'node:fs';
import { repoRoot } from './paths.js';

export interface InstallDoc {
  /** The file the section was read from, relative to the repository. */
  readonly source: string;
  readonly commands: string[];
}

export function section(markdown: string, heading: string): string | undefined {
  const start = markdown.search(new RegExp(`^${heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  if (start < 0) return undefined;
  const rest = markdown.slice(start + heading.length);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

export function shellCommands(text: string): string[] {
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)]
    .flatMap((match) => match[1]!.split('\n'))
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

export function installDoc(): InstallDoc {
  const source = 'README.md';
  const text = section(readFileSync(`${repoRoot}${source}`, 'utf8'), '## Install');
  if (text === undefined) throw new Error('README.md has no "## Install" section');
  return { source, commands: shellCommands(text) };
}
