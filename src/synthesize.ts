import { renderBundle } from './bundle.js';
import type { EcrCredentialsConfig } from './config.js';
import { readRefreshScripts } from './refresh-scripts.js';
import { writeBundle } from './write-bundle.js';

/** Renders the bundle for a validated config and writes it to `outDir`. */
export function synthesize(config: EcrCredentialsConfig, outDir: string = config.outDir): string[] {
  const files = renderBundle(config, readRefreshScripts());
  writeBundle(files, outDir);
  return files.map((file) => file.path);
}
