import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type BundleFile, renderBundle } from '../src/bundle.js';
import { type EcrCredentialsConfig, resolveConfig } from '../src/config.js';
import type { RefreshScripts } from '../src/constructs/refresh-script-config-map.js';
import { OPTIONS, OPTION_NAMES, type RawOptions } from '../src/options.js';

/** Short stand-ins for the refresh scripts: the chart only ships them, so their content is opaque here. */
export const TEST_SCRIPTS: RefreshScripts = {
  'refresh-ecr-credentials.sh': '#!/bin/sh\nset -eu\n. "${0%/*}/part.sh"\n',
  'part.sh': 'echo refresh\n',
};

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export function config(options: RawOptions = {}): EcrCredentialsConfig {
  return resolveConfig(options);
}

export function render(options: RawOptions = {}, scripts = TEST_SCRIPTS): BundleFile[] {
  return renderBundle(config(options), scripts);
}

export function objectsIn(content: string): KubeObject[] {
  return parseAllDocuments(content).map((document) => document.toJS() as KubeObject);
}

/** Every object of the applied bundle (all files but the Kustomization and the template). */
export function appliedObjects(options: RawOptions = {}, scripts = TEST_SCRIPTS): KubeObject[] {
  return render(options, scripts)
    .filter((file) => file.path.endsWith('.yaml'))
    .flatMap((file) => objectsIn(file.content));
}

export function find(objects: KubeObject[], kind: string): KubeObject {
  const found = objects.find((object) => object.kind === kind);
  if (!found) throw new Error(`no ${kind} in bundle`);
  return found;
}

const PROP_BY_FLAG = new Map<string, string>(OPTION_NAMES.map((name) => [OPTIONS[name].flag, name]));

/** A command's message as the construct words it: every `--flag` of an option becomes its prop name. */
export function withPropNames(message: string): string {
  return message.replace(/--([a-z0-9-]+)/g, (whole, flag: string) => PROP_BY_FLAG.get(flag) ?? whole);
}

/** Every file under `dir` by its path relative to `dir`, with its text. */
export function filesIn(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => {
        const path = join(entry.parentPath, entry.name);
        return [path.slice(dir.length + 1), readFileSync(path, 'utf8')];
      }),
  );
}

/** Objects in a stable order: the bundle orders them by file, a chart by construction. */
export function byIdentity(objects: KubeObject[]): KubeObject[] {
  const identity = (object: KubeObject) => `${object.kind}/${object.metadata.name}`;
  return [...objects].sort((a, b) => identity(a).localeCompare(identity(b)));
}

/**
 * A hash of everything under `dir`: each entry's path, type, mode and content (a link's
 * target), so "byte-identical before and after" is one comparison. "absent" if there is no dir.
 */
export function treeHash(dir: string): string {
  if (!existsSync(dir) && !isLink(dir)) return 'absent';
  const hash = createHash('sha256');
  const visit = (path: string, name: string): void => {
    const stats = lstatSync(path);
    hash.update(`${name}\0${stats.mode}\0`);
    if (stats.isSymbolicLink()) hash.update(`link:${readlinkSync(path)}\0`);
    else if (stats.isFile()) hash.update(readFileSync(path));
    else if (stats.isDirectory()) {
      for (const entry of readdirSync(path).sort()) visit(join(path, entry), `${name}/${entry}`);
    }
  };
  visit(dir, '.');
  return hash.digest('hex');
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
