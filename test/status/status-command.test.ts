import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { parseStatusArgs, runStatus } from '../../src/status/status-command.js';

/** A stream that keeps what was written, and says whether it is a terminal. */
function capture(isTTY = false): Writable & { text: () => string; isTTY: boolean } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return Object.assign(stream, { text: () => chunks.join(''), isTTY });
}

describe('status flags', () => {
  test('defaults: the bundle in ecr-updater, a table', async () => {
    expect(await parseStatusArgs([])).toEqual({ namespace: 'ecr-updater', output: 'table' });
  });

  test('--namespace and --output, the last of a repeated flag wins', async () => {
    expect(await parseStatusArgs(['--namespace', 'platform-ecr', '--output', 'table', '--output=json'])).toEqual({
      namespace: 'platform-ecr',
      output: 'json',
    });
  });

  test.each([
    [['--output', 'yaml'], '--output "yaml" is not supported. Use --output table or --output json.'],
    [['--namespce', 'x'], 'Unknown flag --namespce. Did you mean --namespace?'],
    [['--watch'], 'Unknown flag --watch. status takes --namespace and --output.'],
    [['team-a'], 'Unexpected argument "team-a": status takes only --namespace and --output.'],
    [
      ['--namespace', 'ECR_Updater'],
      '--namespace "ECR_Updater" is not a namespace name (lowercase letters, digits and "-", at most 63). Did you mean "ecr-updater"?',
    ],
  ])('%j is refused: %s', async (argv, message) => {
    await expect(parseStatusArgs(argv)).rejects.toThrow(message);
  });

  test('a bad flag exits 2 with the message on stderr and nothing on stdout', async () => {
    const stdout = capture();
    const stderr = capture();
    expect(await runStatus(['--output', 'yaml'], { stdout, stderr })).toBe(2);
    expect(stdout.text()).toBe('');
    expect(stderr.text()).toBe('error: --output "yaml" is not supported. Use --output table or --output json.\n');
  });

  test('kubectl missing: exit 2 saying so', async () => {
    const stdout = capture();
    const stderr = capture();
    const code = await runStatus([], { stdout, stderr, runner: { kubectl: '/nonexistent/kubectl' } });
    expect(code).toBe(2);
    expect(stderr.text()).toBe(
      'error: /nonexistent/kubectl not found on PATH: status reads the cluster with kubectl; install it or put it on PATH\n',
    );
  });

  test('--help prints the usage with the exit codes, exit 0', async () => {
    const stdout = capture();
    expect(await runStatus(['--help'], { stdout, stderr: capture() })).toBe(0);
    expect(stdout.text()).toContain('Usage: ecr-k8s-credentials status [--namespace N] [--output table|json]');
    expect(stdout.text()).toContain(
      'Exit 0: all fresh, no blocked pod; 1: something stale, expired or blocked; 2: the check',
    );
  });
});
