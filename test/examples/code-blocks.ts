import { readFileSync } from 'node:fs';

/** How the examples test treats a fenced block of README.md or docs/*.md. */
export type BlockMode = 'run' | 'node24' | 'fragment';

export interface CodeBlock {
  /** `docs/library.md:8` — file and line of the opening fence. */
  readonly where: string;
  readonly lang: string;
  readonly mode: BlockMode;
  readonly code: string;
}

const FENCE = /^```(\S*)(.*)$/;
const CODE_LANGS = new Set(['js', 'mjs', 'ts', 'javascript', 'typescript']);

/**
 * Every js/mjs/ts fenced block of a Markdown text. ` ```js ` runs, ` ```js node24 ` runs on
 * Node ≥ 24 only, ` ```js fragment ` is counted, not run; a ` ```ts ` block that is not a
 * fragment is an error: it could be neither run nor left out without saying so.
 */
export function codeBlocks(markdown: string, file: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (!open) continue;
    const lang = open[1] ?? '';
    const tags = (open[2] ?? '').trim().split(/\s+/).filter(Boolean);
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i++) body.push(lines[i] ?? '');
    if (i >= lines.length) throw new Error(`${file}:${start + 1}: unclosed code fence`);
    if (!CODE_LANGS.has(lang)) continue;
    const where = `${file}:${start + 1}`;
    const known = tags.filter((t) => t === 'node24' || t === 'fragment');
    if (known.length !== tags.length)
      throw new Error(`${where}: unknown code block tag in \`${lines[start]}\``);
    const mode: BlockMode = tags.includes('fragment')
      ? 'fragment'
      : tags.includes('node24')
        ? 'node24'
        : 'run';
    if ((lang === 'ts' || lang === 'typescript') && mode !== 'fragment') {
      throw new Error(
        `${where}: a \`\`\`${lang} block neither runs nor is marked \`fragment\`: make it js or mark it`,
      );
    }
    blocks.push({ where, lang, mode, code: `${body.join('\n')}\n` });
  }
  return blocks;
}

/** The blocks of several files, read from disk relative to `root`. */
export function codeBlocksOf(root: string, files: readonly string[]): CodeBlock[] {
  return files.flatMap((f) => codeBlocks(readFileSync(`${root}/${f}`, 'utf8'), f));
}
