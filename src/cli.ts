import yargs, { type Options } from 'yargs';
import { ConfigError, portProblem } from './config.js';
import { OPTIONS, OPTION_NAMES, type OptionName, type RawOptions } from './options.js';
import { closest } from './suggest.js';

/** What the command line asked for. */
export type CliRequest =
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'status'; readonly argv: readonly string[] }
  | { readonly kind: 'synth'; readonly flags: RawOptions; readonly configPath: string | undefined };

const USAGE = `Usage: npm run synth -- [options]

Renders the ECR pull-secret refresher (Namespace, ServiceAccount, RBAC, NetworkPolicy, script
ConfigMap, CronJob, first-run Job) into --out-dir as plain YAML plus a Kustomization, and an
AWS-credentials Secret template under templates/ that neither "kubectl apply -f" nor "-k" applies.`;

function yargsOption(name: OptionName): Options {
  const spec = OPTIONS[name];
  const description = `${spec.describe} [default: ${spec.defaultText.replace(/^- /, '')}]`;
  switch (spec.type) {
    case 'list':
      return { type: 'string', array: true, describe: `${description} (repeat or comma-separate)` };
    case 'boolean':
      return { type: 'boolean', describe: description };
    // Read numbers as text so a typo is reported as typed, not as NaN.
    case 'number':
    case 'string':
      return { type: 'string', describe: description };
  }
}

function unknownFlagMessage(yargsMessage: string): string {
  // yargs names each unknown flag twice, as typed and camel-cased; report it once, as typed.
  const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
  const names = [
    ...new Set(
      yargsMessage
        .replace(/^Unknown arguments?: /, '')
        .split(', ')
        .map(kebab),
    ),
  ];
  const known = [...OPTION_NAMES.map((name) => OPTIONS[name].flag), 'config', 'help'];
  return names
    .map((name) => {
      const guess = closest(name.replace(/^no-/, ''), known);
      const hint = guess ? `Did you mean --${guess}?` : 'Run "npm run synth -- --help" to list every option.';
      return `Unknown flag --${name}. ${hint}`;
    })
    .join('\n');
}

function toRawOptions(parsed: Record<string, unknown>): RawOptions {
  const options: Record<string, unknown> = {};
  for (const name of OPTION_NAMES) {
    const value = parsed[name];
    if (value === undefined) continue;
    if (OPTIONS[name].type === 'number') {
      const text = String(Array.isArray(value) ? value[value.length - 1] : value);
      if (!/^\d+$/.test(text)) throw new ConfigError([portProblem(`--${OPTIONS[name].flag}`, text)]);
      options[name] = Number(text);
    } else if (OPTIONS[name].type === 'list') {
      options[name] = (value as unknown[]).map(String);
    } else {
      // A repeated single-value flag: the last one wins, as in most CLIs.
      options[name] = Array.isArray(value) ? value[value.length - 1] : value;
    }
  }
  return options;
}

/**
 * Parses argv strictly. No option has a yargs default: an absent flag must stay undefined so
 * the config file can supply it, and defaults are applied once, in resolveConfig.
 */
export async function parseCli(argv: readonly string[]): Promise<CliRequest> {
  // Commands other than synth parse their own flags (src/status/status-command.ts).
  if (argv[0] === 'status') return { kind: 'status', argv: argv.slice(1) };
  const parser = yargs([...argv])
    .scriptName('ecr-k8s-credentials')
    .usage(USAGE)
    .options(Object.fromEntries(OPTION_NAMES.map((name) => [OPTIONS[name].flag, yargsOption(name)])))
    .option('config', {
      type: 'string',
      describe: 'JSON or YAML file with the same options (keys are the flag names); flags override it',
    })
    .parserConfiguration({ 'strip-dashed': true })
    .strictOptions()
    .version(false)
    .help(false)
    .option('help', { type: 'boolean', alias: 'h', describe: 'Show this help' })
    .wrap(100)
    .exitProcess(false)
    .fail((message: string, error: Error | undefined) => {
      if (error) throw error;
      throw new ConfigError([
        message.startsWith('Unknown argument')
          ? unknownFlagMessage(message)
          : `${message}. Run "npm run synth -- --help".`,
      ]);
    });
  const parsed = (await parser.parseAsync()) as Record<string, unknown>;
  if (parsed.help === true) return { kind: 'help', text: await parser.getHelp() };
  if (parsed._ instanceof Array && parsed._.length > 0) {
    throw new ConfigError([
      `Unexpected argument "${String(parsed._[0])}": synth takes only --flags. Quote values with spaces, e.g. --schedule "0 */6 * * *".`,
    ]);
  }
  const configPath = parsed.config;
  return {
    kind: 'synth',
    flags: toRawOptions(parsed),
    configPath: typeof configPath === 'string' ? configPath : undefined,
  };
}
