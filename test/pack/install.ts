import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const REPO = join(import.meta.dirname, '..', '..');
const execFileAsync = promisify(execFile);

/**
 * A lockfile for a project depending only on the tarball: this repository's lock entries for
 * the packages the package needs at run time (those npm marks neither dev nor devOptional).
 * With exact versions, resolved URLs and integrity, `npm ci --offline` needs nothing but the cache.
 */
function lockFor(tarball: string): unknown {
  const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
  };
  const runtime = Object.entries(lock.packages).filter(
    ([path, entry]) => path.startsWith('node_modules/') && entry.dev !== true && entry.devOptional !== true,
  );
  return {
    name: 'app',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'app', dependencies: { 'ecr-k8s-credentials': `file:${tarball}` } },
      'node_modules/ecr-k8s-credentials': {
        version: manifest.version,
        resolved: `file:${tarball}`,
        license: manifest.license,
        dependencies: manifest.dependencies,
        bin: manifest.bin,
        engines: manifest.engines,
      },
      ...Object.fromEntries(runtime),
    },
  };
}

/**
 * The package as a user gets it: `npm pack` (which runs the `prepare` build, so lib/ is compiled
 * afresh from this checkout) into `work`, then the tarball installed into the empty project `app`
 * with no network. Returns the tarball's file name.
 */
export async function installPackedPackage(work: string, app: string): Promise<string> {
  await execFileAsync('npm', ['pack', '--pack-destination', work, '--no-audit', '--no-fund'], { cwd: REPO });
  const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'))!;
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'app',
      private: true,
      type: 'module',
      dependencies: { 'ecr-k8s-credentials': `file:../${tarball}` },
    }),
  );
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify(lockFor(`../${tarball}`)));
  await execFileAsync('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: app });
  return tarball;
}
