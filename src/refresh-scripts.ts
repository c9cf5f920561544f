import { readdirSync, readFileSync } from 'node:fs';
import type { RefreshScripts } from './constructs/refresh-script-config-map.js';

/**
 * The refresh script and the parts it sources ship as real files, read at synth time. The
 * package build copies them next to the compiled module, so this resolves there too.
 */
const REFRESH_SCRIPTS_DIR = new URL('./scripts/', import.meta.url);

/** Every `.sh` file of src/scripts by file name, in name order (the ConfigMap's keys). */
export function readRefreshScripts(): RefreshScripts {
  const names = readdirSync(REFRESH_SCRIPTS_DIR)
    .filter((name) => name.endsWith('.sh'))
    .sort();
  return Object.fromEntries(names.map((name) => [name, readFileSync(new URL(name, REFRESH_SCRIPTS_DIR), 'utf8')]));
}
