import { parseAllDocuments } from 'yaml';
import { type BundleFile, renderBundle } from '../src/bundle.js';
import { type EcrCredentialsConfig, resolveConfig } from '../src/config.js';
import type { RawOptions } from '../src/options.js';

/** A short stand-in for the refresh script: the chart only ships it, so its content is opaque here. */
export const TEST_SCRIPT = '#!/bin/sh\nset -eu\necho refresh\n';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export function config(options: RawOptions = {}): EcrCredentialsConfig {
  return resolveConfig(options);
}

export function render(options: RawOptions = {}, script = TEST_SCRIPT): BundleFile[] {
  return renderBundle(config(options), script);
}

export function objectsIn(content: string): KubeObject[] {
  return parseAllDocuments(content).map((document) => document.toJS() as KubeObject);
}

/** Every object of the applied bundle (all files but the Kustomization and the template). */
export function appliedObjects(options: RawOptions = {}, script = TEST_SCRIPT): KubeObject[] {
  return render(options, script)
    .filter((file) => file.path.endsWith('.yaml'))
    .flatMap((file) => objectsIn(file.content));
}

export function find(objects: KubeObject[], kind: string): KubeObject {
  const found = objects.find((object) => object.kind === kind);
  if (!found) throw new Error(`no ${kind} in bundle`);
  return found;
}
