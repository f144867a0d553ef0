import { describe, expect, it } from 'vitest';
import { codeBlocks } from '../../examples/code-blocks.js';

const md = (...lines: string[]): string => lines.join('\n');

describe('codeBlocks (the docs examples extractor)', () => {
  it('takes js and mjs blocks to run, node24 and fragment as tagged, and skips other languages', () => {
    const blocks = codeBlocks(
      md(
        '# t',
        '```js',
        'a()',
        '```',
        '```sh',
        'ls',
        '```',
        '```mjs',
        'b()',
        '```',
        '```js node24',
        'await using x = y;',
        '```',
        '```ts fragment',
        'c: T',
        '```',
      ),
      'x.md',
    );
    expect(blocks.map((b) => [b.where, b.lang, b.mode, b.code])).toEqual([
      ['x.md:2', 'js', 'run', 'a()\n'],
      ['x.md:8', 'mjs', 'run', 'b()\n'],
      ['x.md:11', 'js', 'node24', 'await using x = y;\n'],
      ['x.md:14', 'ts', 'fragment', 'c: T\n'],
    ]);
  });

  it('refuses a ts block that is neither runnable nor marked a fragment', () => {
    expect(() => codeBlocks(md('```ts', 'x', '```'), 'y.md')).toThrow(/y\.md:1: .*fragment/);
  });

  it('refuses an unknown tag and an unclosed fence', () => {
    expect(() => codeBlocks(md('```js skip', 'x', '```'), 'z.md')).toThrow(/unknown code block tag/);
    expect(() => codeBlocks(md('```js', 'x'), 'z.md')).toThrow(/unclosed/);
  });
});
