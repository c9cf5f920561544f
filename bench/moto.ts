import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { killOnExit } from '../test/e2e/harness/daemon.js';

// The harness's startMoto() asks vitest's injected context for the venv's Python and so only
// works inside the e2e suite (see /work/notes/harness-requests.md). Until it takes the Python
// path from its caller, this starts the harness's own moto_server.py the same way.
const SERVER_SCRIPT = fileURLToPath(new URL('../test/e2e/harness/moto_server.py', import.meta.url));
const READY_TIMEOUT_MS = 30_000;

export interface MotoServer {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** moto with authentication off, on a free loopback port; `args` go to moto_server.py. */
export function startMotoServer(python: string, args: readonly string[] = []): Promise<MotoServer> {
  // Only what Python needs: an inherited AWS_* variable would change moto's behaviour.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', PYTHONUNBUFFERED: '1' };
  const child = spawn(python, [SERVER_SCRIPT, '--port', '0', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-10_000);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`moto printed no ready line within ${READY_TIMEOUT_MS / 1000}s\n${stderr}`));
    }, READY_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`moto exited (code ${code ?? 'unknown'}) before it was ready\n${stderr}`));
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const endpoint = /^MOTO_READY (http:\/\/\S+)$/m.exec(stdout)?.[1];
      if (endpoint === undefined) return;
      clearTimeout(timer);
      resolve({ endpoint, stop });
    });
  });
}
