import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's own name and version, from its package.json. */
export interface PackageInfo {
  readonly name: string;
  readonly version: string;
}

/**
 * Found by walking up from this module: it runs from src/ in the repository and from lib/src/
 * in the installed package, one directory deeper.
 */
function readPackageInfo(): PackageInfo {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const json = JSON.parse(readFileSync(path, 'utf8')) as Partial<PackageInfo>;
      if (json.name === 'ecr-k8s-credentials' && typeof json.version === 'string') {
        return { name: json.name, version: json.version };
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json of ecr-k8s-credentials above ${import.meta.url}`);
    dir = parent;
  }
}

export const PACKAGE: PackageInfo = readPackageInfo();
