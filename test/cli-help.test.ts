import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { OPTION_NAMES, OPTIONS } from '../src/options.js';

const run = promisify(execFile);
const TSX = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
const MAIN = join(import.meta.dirname, '..', 'src', 'main.ts');

/** yargs wraps the help at the terminal width; compare with every run of whitespace as one space. */
const flat = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** The help's entries by flag: each starts on a line `  --FLAG` and runs until the next. */
function entries(help: string): Map<string, string> {
  const found = new Map<string, string>();
  let flag: string | undefined;
  for (const line of help.split('\n')) {
    const start = /^ {2,6}(?:-\w, )?--([\w-]+)\s/.exec(line);
    if (start?.[1] !== undefined) flag = start[1];
    else if (!/^\s{8,}\S/.test(line)) flag = undefined;
    if (flag !== undefined) found.set(flag, `${found.get(flag) ?? ''} ${line}`);
  }
  return new Map([...found].map(([name, text]) => [name, flat(text)]));
}

// One real process (tsx + node): the help as a user sees it.
describe('npm run synth -- --help', { timeout: 60_000 }, () => {
  test('lists every option of src/options.ts with its description and default, and exits 0', async () => {
    const { stdout } = await run(TSX, [MAIN, '--help'], { encoding: 'utf8' });
    const help = entries(stdout);
    const shown = OPTION_NAMES.map((name) => {
      const { flag, describe, defaultText } = OPTIONS[name];
      const entry = help.get(flag) ?? '';
      // A JSDoc-style "- none" default reads "none" in the help.
      const shownDefault = `[default: ${defaultText.replace(/^- /, '')}]`;
      return { flag, described: entry.includes(flat(describe)), default: entry.includes(shownDefault) };
    });
    expect(shown).toEqual(OPTION_NAMES.map((name) => ({ flag: OPTIONS[name].flag, described: true, default: true })));
    expect(help.has('config')).toBe(true);
  });
});
