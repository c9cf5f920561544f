import { readdirSync, readFileSync } from 'node:fs';
import { renderBundle } from './bundle.js';
import type { EcrCredentialsConfig } from './config.js';
import type { RefreshScripts } from './constructs/refresh-script-config-map.js';
import { writeBundle } from './write-bundle.js';

/** The refresh script and the parts it sources ship as real files, read at synth time. */
export const REFRESH_SCRIPTS_DIR = new URL('./scripts/', import.meta.url);

/** Every `.sh` file of src/scripts by file name, in name order (the ConfigMap's keys). */
export function readRefreshScripts(): RefreshScripts {
  const names = readdirSync(REFRESH_SCRIPTS_DIR)
    .filter((name) => name.endsWith('.sh'))
    .sort();
  return Object.fromEntries(names.map((name) => [name, readFileSync(new URL(name, REFRESH_SCRIPTS_DIR), 'utf8')]));
}

/** Renders the bundle for a validated config and writes it to `outDir`. */
export function synthesize(config: EcrCredentialsConfig, outDir: string = config.outDir): string[] {
  const files = renderBundle(config, readRefreshScripts());
  writeBundle(files, outDir);
  return files.map((file) => file.path);
}
