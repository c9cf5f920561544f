import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { type BundleFile, GENERATED_MARKER } from './bundle.js';
import { ConfigError } from './config.js';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

function isGenerated(path: string): boolean {
  return readFileSync(path, 'utf8').startsWith(GENERATED_MARKER);
}

/**
 * Writes the bundle so that a failure leaves the out dir as it was: files are written to a
 * staging dir next to it first, and only then moved in (each rename is atomic). Files a
 * previous synth wrote that the new bundle no longer has are removed; files synth did not
 * write are never touched, and one in the way of a bundle file stops synth before any change.
 */
export function writeBundle(files: readonly BundleFile[], outDir: string): void {
  const target = resolve(outDir);
  const existing = filesUnder(target);
  const blocking = files.filter((file) => existing.includes(file.path) && !isGenerated(join(target, file.path)));
  if (blocking.length > 0) {
    const paths = blocking.map((file) => join(outDir, file.path)).join(', ');
    throw new ConfigError([
      `--out-dir "${outDir}" holds ${paths}, which synth did not write; it will not overwrite it. ` +
        `Move it away or choose another --out-dir.`,
    ]);
  }

  mkdirSync(dirname(target), { recursive: true });
  const staging = mkdtempSync(join(dirname(target), `.${basename(target)}.synth-`));
  try {
    for (const file of files) {
      mkdirSync(dirname(join(staging, file.path)), { recursive: true });
      writeFileSync(join(staging, file.path), file.content);
    }
    if (!existsSync(target)) {
      renameSync(staging, target);
      return;
    }
    const fresh = new Set(files.map((file) => file.path));
    for (const path of existing) {
      if (!fresh.has(path) && isGenerated(join(target, path))) rmSync(join(target, path));
    }
    for (const file of files) {
      mkdirSync(dirname(join(target, file.path)), { recursive: true });
      renameSync(join(staging, file.path), join(target, file.path));
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
