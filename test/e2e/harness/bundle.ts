import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { run } from './process.js';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The committed bundle, as users apply it. */
export const DIST_DIR = join(REPO_ROOT, 'dist');

/** One Kubernetes object of a bundle, loosely typed: tests pick the fields they check. */
export interface BundleObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Renders a bundle with the generator's CLI (as `npm run synth -- ARGS`) into `outDir`. */
export async function synthBundle(args: readonly string[], outDir?: string): Promise<string> {
  const dir = outDir ?? join(mkdtempSync(join(tmpdir(), 'ecr-e2e-synth-')), 'dist');
  const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const result = await run(tsx, [join(REPO_ROOT, 'src', 'main.ts'), '--out-dir', dir, ...args], {
    cwd: REPO_ROOT,
  });
  if (result.code !== 0) {
    throw new Error(`synth ${args.join(' ')} exited ${result.code}\n${result.stderr}${result.stdout}`);
  }
  return dir;
}

/** The objects `kubectl apply -f DIR` would apply: every top-level *.yaml, in file order. */
export function loadBundle(dir: string): BundleObject[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
        .map((doc) => doc.toJS() as BundleObject | null)
        .filter((object): object is BundleObject => object !== null),
    );
}

/** The single object of `kind` in the bundle; throws if there is not exactly one. */
export function bundleObject(objects: readonly BundleObject[], kind: string): BundleObject {
  const found = objects.filter((object) => object.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} in the bundle, found ${found.length}`);
  return found[0] as BundleObject;
}

/** The entry script's key in the script ConfigMap (the parts it sources sit beside it). */
export const SCRIPT_KEY = 'refresh-ecr-credentials.sh';

/**
 * Writes every file of the bundle's script ConfigMap into `dir`, as the pod's volume mounts
 * them side by side, and returns the entry script's path.
 */
export function writeScriptFiles(objects: readonly BundleObject[], dir: string): string {
  const configMap = objects.find(
    (object) => object.kind === 'ConfigMap' && (object.data as Record<string, string> | undefined)?.[SCRIPT_KEY],
  );
  const files = configMap?.data as Record<string, string> | undefined;
  if (files === undefined) throw new Error(`no ConfigMap with ${SCRIPT_KEY} in the bundle`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o444 });
  return join(dir, SCRIPT_KEY);
}

interface RenderedContainer {
  command?: string[];
  env?: { name: string; value?: string }[];
}

/** The first container of a CronJob's, Job's or Deployment's pod template. */
export function renderedContainer(object: BundleObject): RenderedContainer {
  const spec = object.spec as {
    jobTemplate?: { spec: { template: { spec: { containers: RenderedContainer[] } } } };
    template?: { spec: { containers: RenderedContainer[] } };
  };
  const container = (spec.jobTemplate?.spec.template ?? spec.template)?.spec.containers[0];
  if (!container) throw new Error(`${object.kind} ${object.metadata.name} has no container`);
  return container;
}

/**
 * The settings the pod gets as plain values (not from a Secret), as a script's environment:
 * what a test runs the script with before adding the credentials and paths of its own. HOME,
 * TMPDIR and the heartbeat path point into the container's volumes, so they are left out.
 */
export function renderedSettings(object: BundleObject): Record<string, string> {
  const own = new Set(['HOME', 'TMPDIR', 'ECR_HEARTBEAT_FILE']);
  return Object.fromEntries(
    (renderedContainer(object).env ?? [])
      .filter((variable) => variable.value !== undefined && !own.has(variable.name))
      .map((variable) => [variable.name, variable.value ?? '']),
  );
}
