import yargs, { type Options } from 'yargs';
import { ConfigError, portProblem } from './config.js';
import { OPTIONS, OPTION_NAMES, type RawOptions } from './options.js';
import { cut, quote } from './quote.js';
import { closest } from './suggest.js';
import { FILE_LIST } from './write-bundle.js';

/**
 * What the command line asked for. A new command is a new kind here, its flags in parseCli and
 * its handler in command.ts.
 */
export type CliRequest =
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version' }
  | { readonly kind: 'status'; readonly argv: readonly string[] }
  | { readonly kind: 'synth'; readonly flags: RawOptions; readonly configPath: string | undefined };

function usage(command: string): string {
  return `Usage: ${command} [options]
or: ${command} status [--namespace N] [--output table|json]

Renders the ECR pull-secret refresher (Namespace, ServiceAccount, RBAC, NetworkPolicy, script
ConfigMap, CronJob, first-run Job) into --out-dir as plain YAML plus a Kustomization, and an
AWS-credentials Secret template under templates/ that neither "kubectl apply -f" nor "-k" applies.
The out dir holds only what the command wrote (it keeps the list in ${FILE_LIST}).
"status" reads a cluster instead: whether every target namespace holds a fresh pull secret, and
why a pod cannot pull ("${command} status --help").`;
}

const negationOf = (flag: string): string => `no-${flag}`;
const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

function yargsOptions(): Record<string, Options> {
  const options: Record<string, Options> = {};
  for (const name of OPTION_NAMES) {
    const spec = OPTIONS[name];
    const description = `${spec.describe} [default: ${spec.defaultText.replace(/^- /, '')}]`;
    switch (spec.type) {
      case 'list':
        options[spec.flag] = {
          type: 'string',
          array: true,
          describe: `${description} (${spec.commas === 'keep' ? 'repeat' : 'repeat or comma-separate'})`,
        };
        break;
      // No yargs type: yargs reads any value of a boolean as false ("--fips=yes"), so the value
      // is taken as typed and checked in toRawOptions.
      case 'boolean':
        options[spec.flag] = { describe: `${description} (--${spec.flag}=false or --no-${spec.flag} to turn off)` };
        options[negationOf(spec.flag)] = { hidden: true };
        break;
      // Read numbers as text so a typo is reported as typed, not as NaN.
      case 'number':
      case 'string':
        options[spec.flag] = { type: 'string', describe: description };
        break;
    }
  }
  return options;
}

/** Every flag the command knows, as typed, for "did you mean". */
function knownFlags(): string[] {
  const flags = OPTION_NAMES.flatMap((name) => {
    const { flag, type } = OPTIONS[name];
    return type === 'boolean' ? [flag, negationOf(flag)] : [flag];
  });
  return [...flags, 'config', 'help', 'version'];
}

function unknownFlagMessage(yargsMessage: string, command: string): string {
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
  return names
    .map((name) => {
      const guess = closest(name, knownFlags());
      const hint = guess ? `Did you mean --${guess}?` : `Run "${command} --help" to list every option.`;
      return `Unknown flag --${cut(name)}. ${hint}`;
    })
    .join('\n');
}

const last = (value: unknown): unknown => (Array.isArray(value) ? value[value.length - 1] : value);

/**
 * A boolean flag: bare (`--fips`), `--fips=true|false`, `--fips true|false`, or `--no-fips`.
 * Anything else is refused rather than read as false.
 */
function booleanOf(flag: string, value: unknown, negated: unknown): boolean | undefined {
  const fix = `Use --${flag} (or --${flag}=true) to turn it on, --no-${flag} (or --${flag}=false) to turn it off.`;
  if (negated !== undefined && last(negated) !== true) {
    throw new ConfigError([`--no-${flag} takes no value, got ${quote(String(last(negated)))}. ${fix}`]);
  }
  if (value !== undefined && negated !== undefined) {
    throw new ConfigError([`--${flag} and --no-${flag} are both given. ${fix}`]);
  }
  if (negated !== undefined) return false;
  if (value === undefined) return undefined;
  const given = last(value);
  if (given === true || given === 'true') return true;
  if (given === 'false') return false;
  throw new ConfigError([`--${flag} ${quote(String(given))} is not true or false. ${fix}`]);
}

function toRawOptions(parsed: Record<string, unknown>): RawOptions {
  const options: Record<string, unknown> = {};
  for (const name of OPTION_NAMES) {
    const { flag, type } = OPTIONS[name];
    const value = parsed[name];
    if (type === 'boolean') {
      const negated = parsed[camel(negationOf(flag))];
      options[name] = booleanOf(flag, value, negated);
      continue;
    }
    if (value === undefined) continue;
    if (type === 'number') {
      const text = String(last(value));
      if (!/^\d+$/.test(text)) throw new ConfigError([portProblem(`--${flag}`, text)]);
      options[name] = Number(text);
    } else if (type === 'list') {
      options[name] = (value as unknown[]).map(String);
    } else {
      // A repeated single-value flag: the last one wins, as in most CLIs.
      options[name] = last(value);
    }
  }
  return options;
}

/**
 * Parses argv strictly. No option has a yargs default: an absent flag must stay undefined so
 * the config file can supply it, and defaults are applied once, in resolveConfig. `command`
 * is how the user started the command, for the usage line and hints.
 */
export async function parseCli(argv: readonly string[], command: string): Promise<CliRequest> {
  // `status` parses its own flags (src/status/status-command.ts).
  if (argv[0] === 'status') return { kind: 'status', argv: argv.slice(1) };
  const parser = yargs([...argv])
    .scriptName('ecr-k8s-credentials')
    .usage(usage(command))
    .options(yargsOptions())
    .option('config', {
      type: 'string',
      describe: 'JSON or YAML file with the same options (keys are the flag names); flags override it',
    })
    // Boolean negation off: with it, yargs reads "--no-proxy .corp" as the negation of a
    // "proxy" flag. Each boolean declares its --no- form instead.
    .parserConfiguration({ 'strip-dashed': true, 'boolean-negation': false })
    .strictOptions()
    .version(false)
    .help(false)
    .option('help', { type: 'boolean', alias: 'h', describe: 'Show this help' })
    .option('version', { type: 'boolean', describe: 'Show the version' })
    .wrap(100)
    .exitProcess(false)
    .fail((message: string, error: Error | undefined) => {
      if (error) throw error;
      throw new ConfigError([
        message.startsWith('Unknown argument')
          ? unknownFlagMessage(message, command)
          : `${message}. Run "${command} --help".`,
      ]);
    });
  const parsed = (await parser.parseAsync()) as Record<string, unknown>;
  if (parsed.help === true) return { kind: 'help', text: await parser.getHelp() };
  if (parsed.version === true) return { kind: 'version' };
  if (parsed._ instanceof Array && parsed._.length > 0) {
    throw new ConfigError([
      `Unexpected argument ${quote(String(parsed._[0]))}: ${command} takes only --flags. Quote values with spaces, e.g. --schedule "0 */6 * * *".`,
    ]);
  }
  const configPath = parsed.config;
  return {
    kind: 'synth',
    flags: toRawOptions(parsed),
    configPath: typeof configPath === 'string' ? configPath : undefined,
  };
}
