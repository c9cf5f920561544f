import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './process.js';

/**
 * A directory of busybox applet symlinks (sh, base64, sed, date, ...). First on a script's PATH
 * it stands in for Alpine's userland: a GNU-only option fails here as it would in alpine/k8s.
 */
export async function createBusyboxDir(busybox: string, dir: string): Promise<void> {
  const { stdout, code, stderr } = await run(busybox, ['--list']);
  if (code !== 0) throw new Error(`${busybox} --list failed: ${stderr}`);
  mkdirSync(dir, { recursive: true });
  for (const applet of stdout.split('\n').filter(Boolean)) {
    symlinkSync(busybox, join(dir, applet));
  }
}

/** A directory with just the tools alpine/k8s adds on top of busybox that scripts use. */
export function createToolsDir(dir: string, tools: Record<'kubectl' | 'aws' | 'jq' | 'curl', string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, target] of Object.entries(tools)) {
    symlinkSync(target, join(dir, name));
  }
}
