/**
 * The commands of the README's "## Install" and docs/deploy.md's "## Uninstall" sections, in order:
 * every line of their ```sh blocks, and each block with the text that introduces it.
 */
import { readFileSync } from 'node:fs';
import { repoRoot } from './paths.js';

export interface ShellBlock {
  /** The prose between the previous block (or the heading) and this one. */
  readonly before: string;
  readonly commands: string[];
}

export interface InstallDoc {
  /** The file the section was read from, relative to the repository. */
  readonly source: string;
  readonly blocks: ShellBlock[];
  readonly commands: string[];
}

export function section(markdown: string, heading: string): string | undefined {
  const start = markdown.search(new RegExp(`^${heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  if (start < 0) return undefined;
  const rest = markdown.slice(start + heading.length);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

export function shellBlocks(text: string): ShellBlock[] {
  let from = 0;
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => {
    const before = text.slice(from, match.index).trim();
    from = match.index + match[0].length;
    const commands = match[1]!
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    return { before, commands };
  });
}

function docSection(source: string, heading: string): InstallDoc {
  const text = section(readFileSync(`${repoRoot}${source}`, 'utf8'), heading);
  if (text === undefined) throw new Error(`${source} has no "${heading}" section`);
  const blocks = shellBlocks(text);
  return { source, blocks, commands: blocks.flatMap((block) => block.commands) };
}

export const installDoc = (): InstallDoc => docSection('README.md', '## Install');
export const uninstallDoc = (): InstallDoc => docSection('docs/deploy.md', '## Uninstall');

/** The Install blocks that install Node.js, by where it comes from (the prose before each says). */
export function nodeBlocks({ blocks }: InstallDoc): { debian: ShellBlock; nodesource: ShellBlock } {
  const installsNode = blocks.filter((block) =>
    block.commands.some((line) => /apt-get install .*\bnodejs\b/.test(line)),
  );
  // The paragraph just before the block says whose Node.js it is for.
  const introducedBy = (pattern: RegExp) =>
    installsNode.filter((block) => pattern.test(block.before.split(/\n\s*\n/).at(-1)!));
  const debian = introducedBy(/\bDebian's own Node\.js/);
  const nodesource = introducedBy(/\bNodeSource's Node\.js/);
  if (installsNode.length !== 2 || debian.length !== 1 || nodesource.length !== 1)
    throw new Error(
      `the Install section should have one Node.js block introduced by a paragraph naming "Debian's own ` +
        `Node.js" and one by one naming "NodeSource's Node.js"; it has ${String(installsNode.length)} blocks installing nodejs`,
    );
  return { debian: debian[0]!, nodesource: nodesource[0]! };
}
