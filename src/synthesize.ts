import { renderBundle } from './bundle.js';
import type { EcrCredentialsConfig } from './config.js';
import { readRefreshScripts } from './refresh-scripts.js';
import { writeBundle } from './write-bundle.js';

/**
 * Renders the bundle for a validated config and writes it to `outDir`; `option` is how messages
 * name the out dir (`--out-dir`, or its key in a config file).
 */
export function synthesize(config: EcrCredentialsConfig, outDir: string = config.outDir, option?: string): string[] {
  const files = renderBundle(config, readRefreshScripts());
  writeBundle(files, outDir, option);
  return files.map((file) => file.path);
}
