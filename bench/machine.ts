import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { run } from '../test/e2e/harness/process.js';
import type { Tools } from './environment.js';

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** e.g. "2 vCPU (Intel(R) Xeon(R) ...), 23.5 GiB RAM, Linux 6.1.0, Debian GNU/Linux 12 (bookworm)" */
export function collectMachine(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const ram = (totalmem() / 1024 ** 3).toFixed(1);
  const os = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readOr('/etc/os-release', ''))?.[1] ?? 'unknown OS';
  return `${cpus().length} vCPU (${model}), ${ram} GiB RAM, Linux ${release()}, ${os}`;
}

async function firstLine(command: string, args: readonly string[], pattern?: RegExp): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args);
    const text = `${stdout}\n${stderr}`;
    if (pattern !== undefined) return pattern.exec(text)?.[1] ?? 'unknown';
    return text.trim().split('\n')[0] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Versions of everything that shapes the numbers. */
export async function collectVersions(tools: Tools, kubeApiserver: string): Promise<Record<string, string>> {
  return {
    'kube-apiserver': kubeApiserver,
    etcd: await firstLine(tools.etcd, ['--version'], /etcd Version: (\S+)/),
    'kubectl (scripts and floor)': await firstLine(
      tools.scriptKubectl,
      ['version', '--client', '-o', 'json'],
      /"gitVersion": "([^"]+)"/,
    ),
    busybox: await firstLine(tools.busybox, [], /^(BusyBox v\S+)/m),
    // The scripts' curl is the one in their tools dir (a link to the machine's).
    curl: await firstLine(join(tools.toolsDir, 'curl'), ['--version'], /^curl (\S+)/m),
    'aws CLI': await firstLine(tools.aws, ['--version'], /^(aws-cli\/\S+)/m),
    moto: await firstLine(tools.python, ['-c', 'import moto; print(moto.__version__)']),
    node: process.version,
  };
}
