import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../src/config.js';
import { writeBundle } from '../src/write-bundle.js';
import { filesIn, render } from './helpers.js';

function tempOutDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'ecr-write-')), 'dist');
}

describe('writeBundle', () => {
  test('creates the out dir with every file and leaves no staging dir behind', () => {
    const dir = tempOutDir();
    const files = render();
    writeBundle(files, dir);
    expect(filesIn(dir)).toEqual(Object.fromEntries(files.map((file) => [file.path, file.content])));
    expect(readdirSync(dirname(dir))).toEqual(['dist']);
  });

  test('removes files an earlier synth wrote that the new bundle no longer has', () => {
    const dir = tempOutDir();
    writeBundle(render(), dir);
    writeBundle(render({ networkPolicy: false, initialJob: false }), dir);
    expect(existsSync(join(dir, '30-network-policy.yaml'))).toBe(false);
    expect(existsSync(join(dir, '60-initial-job.yaml'))).toBe(false);
    expect(existsSync(join(dir, '50-cron-job.yaml'))).toBe(true);
  });

  test('never touches files it did not write', () => {
    const dir = tempOutDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'README.md'), 'mine');
    writeFileSync(join(dir, '99-extra.yaml'), 'kind: ConfigMap\n');
    writeBundle(render(), dir);
    writeBundle(render({ initialJob: false }), dir);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('mine');
    expect(readFileSync(join(dir, '99-extra.yaml'), 'utf8')).toBe('kind: ConfigMap\n');
  });

  test('refuses to overwrite a hand-written file in the way, and changes nothing', () => {
    const dir = tempOutDir();
    writeBundle(render(), dir);
    writeFileSync(join(dir, '50-cron-job.yaml'), 'hand: written\n');
    const before = filesIn(dir);
    expect(() => writeBundle(render({ initialJob: false }), dir)).toThrow(ConfigError);
    expect(() => writeBundle(render({ initialJob: false }), dir)).toThrow(
      `--out-dir "${dir}" holds ${join(dir, '50-cron-job.yaml')}, which synth did not write; it will not overwrite it. Move it away or choose another --out-dir.`,
    );
    expect(filesIn(dir)).toEqual(before);
  });
});
