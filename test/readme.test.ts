import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { OPTIONS, OPTION_NAMES } from '../src/options.js';

const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

test.each(OPTION_NAMES.map((name) => [OPTIONS[name].flag, OPTIONS[name].defaultText.replace(/^- /, '')]))(
  'README documents --%s with its default (%s)',
  (flag, defaultText) => {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`--${flag}\``));
    expect(row, `no README option row for --${flag}`).toBeTypeOf('string');
    expect(row).toContain(defaultText);
  },
);
