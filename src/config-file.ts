import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError, type ConfigFileOptions } from './config.js';
import { expectedType, OPTIONS, OPTION_NAMES } from './options.js';
import { cut, quote, showJson } from './quote.js';
import { commandName } from './package-info.js';
import { closest } from './suggest.js';

const BY_FLAG = new Map(OPTION_NAMES.map((name) => [OPTIONS[name].flag, name]));

/**
 * Reads a committed JSON or YAML config file whose keys are the flag names
 * (`schedule: ...`, `network-policy: false`). Unknown keys are errors, not ignored:
 * a misspelt key silently falling back to a default is how exclude lists stop working.
 */
export function loadConfigFile(path: string, command: string = commandName()): ConfigFileOptions {
  const where = `--config ${quote(path)}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'there is no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (error as Error).message;
    throw new ConfigError([`${where} cannot be read: ${reason}. Give the path of a JSON or YAML file.`]);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    // The parser's first line ends with ":" before a code excerpt that is left out here.
    const firstLine = (error as Error).message.split('\n')[0]!.replace(/:\s*$/, '');
    throw new ConfigError([`${where} is not valid YAML or JSON: ${cut(firstLine)}. Fix the file and run again.`]);
  }
  if (document === null || document === undefined) return { path, options: {} };
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError([`${where} must hold a mapping of option names to values, e.g. "schedule: 0 */6 * * *".`]);
  }
  const problems: string[] = [];
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(document)) {
    const name = BY_FLAG.get(key);
    if (name === undefined) {
      const guess = closest(key, [...BY_FLAG.keys()]);
      problems.push(
        `${where}: ${quote(key)} is not an option. ${guess ? `Did you mean "${guess}"?` : `See ${command} --help.`}`,
      );
      continue;
    }
    const expected = expectedType(name, value);
    if (expected) {
      problems.push(`${where}: ${quote(key)} is ${showJson(value)}; it must be ${expected}.`);
      continue;
    }
    options[name] = OPTIONS[name].type === 'list' && typeof value === 'string' ? [value] : value;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { path, options };
}
