import { readFileSync } from 'node:fs';
import { renderBundle } from './bundle.js';
import type { EcrCredentialsConfig } from './config.js';
import { writeBundle } from './write-bundle.js';

/** The refresh script ships as a real file; it is read at synth time, never built as a string. */
export const REFRESH_SCRIPT_PATH = new URL('./scripts/refresh-ecr-credentials.sh', import.meta.url);

export function readRefreshScript(): string {
  return readFileSync(REFRESH_SCRIPT_PATH, 'utf8');
}

/** Renders the bundle for a validated config and writes it to `outDir`. */
export function synthesize(config: EcrCredentialsConfig, outDir: string = config.outDir): string[] {
  const files = renderBundle(config, readRefreshScript());
  writeBundle(files, outDir);
  return files.map((file) => file.path);
}
