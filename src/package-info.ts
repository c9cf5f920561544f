import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * How the command was started, for its usage line and hints: run from the TypeScript sources it
 * is this repository's `npm run synth --`; compiled, it is the package's bin.
 */
export function commandName(): string {
  return import.meta.url.endsWith('.ts') ? 'npm run synth --' : 'ecr-k8s-credentials';
}

/** The package's version, from its package.json (src/ and lib/src/ sit at different depths). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'ecr-k8s-credentials' && manifest.version !== undefined) return manifest.version;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json of ecr-k8s-credentials not found');
    dir = parent;
  }
}
