import yargs from 'yargs';
import { DEFAULTS } from '../config.js';
import { packageVersion } from '../package-info.js';
import { readRefreshScripts } from '../refresh-scripts.js';
import { closest } from '../suggest.js';
import { isDnsLabel, suggestDnsLabel } from '../validation/kubernetes.js';
import { diagnose, type PackageScripts } from './diagnose.js';
import { readCluster, StatusCheckError, type KubectlRunner } from './read-cluster.js';
import { renderTable } from './render-table.js';

/** Exit codes, for CI and cron: 0 all fresh, 1 something stale/expired/blocked, 2 the check failed. */
export const EXIT_OK = 0;
export const EXIT_NOT_FRESH = 1;
export const EXIT_CHECK_FAILED = 2;

export const OUTPUTS = ['table', 'json'] as const;
export type StatusOutput = (typeof OUTPUTS)[number];

export interface StatusOptions {
  /** Namespace the bundle runs in, as synth's --namespace. @default 'ecr-updater' */
  readonly namespace: string;
  /** @default 'table' */
  readonly output: StatusOutput;
}

const USAGE = `Usage: ecr-k8s-credentials status [--namespace N] [--output table|json]
   or: kubectl ecr-credentials status [--namespace N] [--output table|json]

Tells whether every target namespace holds a fresh pull secret and why a pod cannot pull from
ECR, with the command that fixes it. Reads the cluster with kubectl and your kubeconfig (lists
only). Exit 0: all fresh, no blocked pod; 1: something stale, expired or blocked; 2: the check
itself failed.`;

const KNOWN_FLAGS = ['namespace', 'output', 'help'];

/** Parses status's own flags; every mistake names the flag, the value and the fix. */
export async function parseStatusArgs(argv: readonly string[]): Promise<StatusOptions | { help: string }> {
  const parser = yargs([...argv])
    .scriptName('ecr-k8s-credentials status')
    .usage(USAGE)
    .option('namespace', { type: 'string', describe: `Namespace the bundle runs in [default: ${DEFAULTS.namespace}]` })
    .option('output', { type: 'string', describe: 'table (for people) or json (for machines) [default: table]' })
    .strictOptions()
    .version(false)
    .help(false)
    .option('help', { type: 'boolean', alias: 'h', describe: 'Show this help' })
    .wrap(100)
    .exitProcess(false)
    .fail((message: string, error: Error | undefined) => {
      if (error) throw error;
      const unknown = /^Unknown arguments?: (.*)$/.exec(message)?.[1];
      if (unknown === undefined) throw new StatusCheckError(`${message}. Run "ecr-k8s-credentials status --help".`);
      const name = unknown.split(', ')[0] ?? unknown;
      const guess = closest(name, KNOWN_FLAGS);
      throw new StatusCheckError(
        `Unknown flag --${name}. ${guess ? `Did you mean --${guess}?` : 'status takes --namespace and --output.'}`,
      );
    });
  // A repeated flag arrives as an array: the last one wins, as in synth.
  type Given = string | string[] | undefined;
  const parsed = (await parser.parseAsync()) as { help?: boolean; namespace?: Given; output?: Given; _: unknown[] };
  if (parsed.help === true) return { help: await parser.getHelp() };
  if (parsed._.length > 0) {
    throw new StatusCheckError(
      `Unexpected argument "${String(parsed._[0])}": status takes only --namespace and --output.`,
    );
  }
  const last = (value: Given): string | undefined => (Array.isArray(value) ? value[value.length - 1] : value);
  const namespace = last(parsed.namespace) ?? DEFAULTS.namespace;
  const output = last(parsed.output) ?? 'table';
  if (!isDnsLabel(namespace)) {
    throw new StatusCheckError(
      `--namespace "${namespace}" is not a namespace name (lowercase letters, digits and "-", at most 63). Did you mean "${suggestDnsLabel(namespace)}"?`,
    );
  }
  if (!(OUTPUTS as readonly string[]).includes(output)) {
    throw new StatusCheckError(`--output "${output}" is not supported. Use --output table or --output json.`);
  }
  return { namespace, output: output as StatusOutput };
}

/** The refresh scripts and version of the package this command belongs to. */
export function installedPackage(): PackageScripts {
  return { version: packageVersion(), scripts: readRefreshScripts() };
}

export interface StatusIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly runner?: KubectlRunner;
  readonly now?: () => number;
}

/** `status`: parse -> read the cluster -> diagnose -> render -> exit code. */
export async function runStatus(argv: readonly string[], io: StatusIo): Promise<number> {
  try {
    const options = await parseStatusArgs(argv);
    if ('help' in options) {
      io.stdout.write(`${options.help}\n`);
      return EXIT_OK;
    }
    // Progress only for a person watching: on a terminal the lists of a large cluster take seconds.
    const progress = io.stderr.isTTY === true ? (line: string) => io.stderr.write(`status: ${line}\n`) : undefined;
    const state = await readCluster(options.namespace, io.runner ?? {}, progress);
    const report = diagnose(state, installedPackage(), (io.now ?? Date.now)());
    io.stdout.write(
      options.output === 'json'
        ? `${JSON.stringify(report, null, 2)}\n`
        : renderTable(report, io.stdout.isTTY === true),
    );
    return report.exitCode === 0 ? EXIT_OK : EXIT_NOT_FRESH;
  } catch (error) {
    // Whatever broke, the check did not happen: 2, never the 1 that means "something is stale".
    io.stderr.write(
      `error: ${error instanceof StatusCheckError ? error.message : String((error as Error).stack ?? error)}\n`,
    );
    return EXIT_CHECK_FAILED;
  }
}
