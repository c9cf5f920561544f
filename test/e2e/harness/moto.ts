import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireContext } from './available.js';
import { killOnExit } from './daemon.js';

export interface MotoOptions {
  /** moto's INITIAL_NO_AUTH_ACTION_COUNT: calls after the first N need valid keys and IAM rights. @default - auth off */
  initialNoAuthActionCount?: number;
  /** The first N ecr:GetAuthorizationToken calls answer ThrottlingException (retried by the CLI). @default 0 */
  throttleEcr?: number;
  /** Every GetAuthorizationToken call answers AccessDeniedException. @default false */
  failEcr?: boolean;
  /** GetAuthorizationToken calls signed for this region answer AccessDeniedException; other regions answer. @default - none */
  failEcrRegion?: string;
  /** GetAuthorizationToken's expiresAt is this many seconds from now. @default - moto's fixed date in 2015 */
  ecrTokenSeconds?: number;
  /** Every ECR Public GetAuthorizationToken the stub receives answers AccessDeniedException (after its signature check). @default false */
  failEcrPublic?: boolean;
}

export interface MotoStats {
  /** GetAuthorizationToken calls received, including the failed and throttled ones. */
  getAuthorizationToken: number;
  throttled: number;
  failed: number;
  /** AWS API requests of any kind received (STS, IAM, ECR, the ECR Public stub's...). */
  requests: number;
  /** ECR Public GetAuthorizationToken calls the ECR Public stub received. */
  ecrPublicGetAuthorizationToken: number;
  /** Those whose SigV4 signature botocore's signer recomputed the same, scoped to us-east-1/ecr-public. */
  ecrPublicSigned: number;
  /** Those answered 403 for their signature, scope or key. */
  ecrPublicRejected: number;
  /** Why the last one was rejected. */
  ecrPublicLastRejection: string;
}

export interface Moto {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL. */
  endpoint: string;
  stop: () => Promise<void>;
  /** Counts of the ECR token calls so far. */
  stats: () => Promise<MotoStats>;
}

const SERVER_SCRIPT = fileURLToPath(new URL('./moto_server.py', import.meta.url));
const READY_TIMEOUT_MS = 30_000;

/** A fresh moto server (empty state) on its own free loopback port. */
export function startMoto(opts: MotoOptions = {}): Promise<Moto> {
  const { tools } = requireContext();
  const args = [SERVER_SCRIPT, '--port', '0'];
  if (opts.initialNoAuthActionCount !== undefined) {
    args.push('--initial-no-auth-action-count', String(opts.initialNoAuthActionCount));
  }
  if (opts.throttleEcr !== undefined) args.push('--throttle-ecr', String(opts.throttleEcr));
  if (opts.failEcr === true) args.push('--fail-ecr');
  if (opts.failEcrRegion !== undefined) args.push('--fail-ecr-region', opts.failEcrRegion);
  if (opts.ecrTokenSeconds !== undefined) args.push('--ecr-token-seconds', String(opts.ecrTokenSeconds));
  if (opts.failEcrPublic === true) args.push('--fail-ecr-public');

  // Only what Python needs: an inherited AWS_* or INITIAL_NO_AUTH_ACTION_COUNT would change moto.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', PYTHONUNBUFFERED: '1' };
  const child = spawn(tools.python, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let isExited = false;
  void exited.then(() => (isExited = true));

  const stop = async (): Promise<void> => {
    if (isExited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  return new Promise((resolve, reject) => {
    let stdout = '';
    let ready = false;
    const fail = (why: string): void => {
      clearTimeout(timer);
      void stop();
      reject(new Error(`moto did not start: ${why}\n--- moto stderr ---\n${stderr.slice(-3_000)}`));
    };
    const timer = setTimeout(() => fail(`no ready line after ${READY_TIMEOUT_MS / 1000}s`), READY_TIMEOUT_MS);
    child.on('error', (err) => fail(err.message));
    child.on('exit', (code, signal) => {
      if (!ready) fail(`exited (${signal ?? `code ${code}`})`);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const match = /^MOTO_READY (http:\/\/\S+)$/m.exec(stdout);
      if (match?.[1] === undefined) return;
      if (ready) return;
      ready = true;
      clearTimeout(timer);
      const endpoint = match[1];
      resolve({
        endpoint,
        stop,
        async stats(): Promise<MotoStats> {
          const res = await fetch(`${endpoint}/_harness/stats`);
          return (await res.json()) as MotoStats;
        },
      });
    });
  });
}
