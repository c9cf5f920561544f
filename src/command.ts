import { parseCli } from './cli.js';
import { ConfigError, resolveConfig } from './config.js';
import { loadConfigFile } from './config-file.js';
import { INJECTION_MINIMUM_KUBERNETES } from './constructs/pull-secret-injection-policy.js';
import { commandName, packageVersion } from './package-info.js';
import { runStatus } from './status/status-command.js';
import { synthesize } from './synthesize.js';
import { fileSystemProblem, isFileSystemError } from './write-bundle.js';

/** Where the command prints: the terminal, or a test's buffers. */
export interface CommandOutput {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const TERMINAL: CommandOutput = {
  out: (text) => {
    console.log(text);
  },
  err: (text) => {
    console.error(text);
  },
};

/**
 * The whole command: parse -> resolve -> synthesize, and the exit code. Input problems and
 * file-system failures are the user's to fix: one line each, exit 1, no stack trace.
 */
export async function runCommand(
  argv: readonly string[],
  output: CommandOutput = TERMINAL,
  command: string = commandName(),
): Promise<number> {
  try {
    const request = await parseCli(argv, command);
    switch (request.kind) {
      case 'help':
        output.out(request.text);
        return 0;
      case 'version':
        output.out(packageVersion());
        return 0;
      case 'status':
        return await runStatus(request.argv, { stdout: process.stdout, stderr: process.stderr });
      case 'synth': {
        // `cdk8s synth` passes its output directory this way.
        const flags = { ...request.flags, outDir: request.flags.outDir ?? process.env.CDK8S_OUTDIR };
        const file = request.configPath === undefined ? undefined : loadConfigFile(request.configPath, command);
        const config = resolveConfig(flags, file);
        const fromFile = flags.outDir === undefined && file?.options.outDir !== undefined;
        const written = synthesize(config, config.outDir, fromFile ? `"out-dir" in ${file.path}` : '--out-dir');
        output.out(`Wrote ${written.length} files to ${config.outDir}/`);
        if (config.injectPullSecret) {
          // The API server refuses the file on older clusters; say so before anyone applies it.
          output.out(
            `note: 75-pull-secret-injection.yaml needs Kubernetes ${INJECTION_MINIMUM_KUBERNETES} or newer ` +
              `(MutatingAdmissionPolicy, admissionregistration.k8s.io/v1); on older clusters use --patch-service-accounts instead.`,
          );
        }
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      output.err(error.problems.map((problem) => `error: ${problem}`).join('\n'));
      return 1;
    }
    if (isFileSystemError(error)) {
      output.err(`error: ${fileSystemProblem(error)}`);
      return 1;
    }
    // A bug, not bad input: the stack is what a report needs.
    output.err(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 70;
  }
}
