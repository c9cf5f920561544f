import {
  accessSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, parse, resolve } from 'node:path';
import { AWS_CREDENTIALS_TEMPLATE_FILE, type BundleFile, GENERATED_MARKER } from './bundle.js';
import { ConfigError } from './config.js';
import { quote } from './quote.js';

/**
 * The list of files the command wrote into an out dir. A later run replaces or removes only
 * the files listed there, and refuses an out dir that holds anything else.
 */
export const FILE_LIST = '.ecr-k8s-credentials-files';

const FILE_LIST_HEADER = `${GENERATED_MARKER}: the files it wrote into this directory. Its next run
# replaces or removes only these, and refuses the directory if it holds anything else. Do not edit.
`;

/** Subdirectories a bundle has (templates/); a bundle written before the file list had them too. */
const BUNDLE_SUBDIRS: ReadonlySet<string> = new Set([dirname(AWS_CREDENTIALS_TEMPLATE_FILE)]);

/** A relative path as the list holds it: plain names, "/" between them, never "." or "..". */
const LISTED_PATH = /^(?!\.\.?(?:\/|$))[\w.-]+(?:\/(?!\.\.?(?:\/|$))[\w.-]+)*$/;

interface OutDir {
  /** As the user gave it, for messages. */
  readonly given: string;
  /** The directory written to, symbolic links resolved. */
  readonly path: string;
  readonly exists: boolean;
  /** Files of an earlier run that are there now (relative paths); empty for a new out dir. */
  readonly owned: readonly string[];
  readonly hasFileList: boolean;
}

function fileList(paths: readonly string[]): string {
  return FILE_LIST_HEADER + [...paths].sort().join('\n') + '\n';
}

/** Whether a file starts with the generated header; reads only its start, as it may be anything. */
function isGenerated(path: string): boolean {
  const start = Buffer.alloc(GENERATED_MARKER.length);
  const fd = openSync(path, 'r');
  try {
    return readSync(fd, start, 0, start.length, 0) === start.length && start.toString('utf8') === GENERATED_MARKER;
  } finally {
    closeSync(fd);
  }
}

/** The directories a relative path lies in: "a/b/c" -> ["a", "a/b"]. */
function directoriesOf(file: string): string[] {
  const parts = file.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

function refuse(message: string): never {
  throw new ConfigError([message]);
}

/**
 * Directories no bundle may take over: the file system root, the home directory and a
 * repository's root are full of files that are not the command's.
 */
function refuseShared(out: string, where: string, path: string): void {
  const fix = `Use a new directory below it, e.g. ${quote(join(out, 'ecr-k8s-credentials'))}.`;
  const home = existsSync(homedir()) ? realpathSync(homedir()) : homedir();
  if (path === parse(path).root)
    refuse(`${where} is the root directory; the bundle needs a directory of its own. ${fix}`);
  if (path === home) refuse(`${where} is the home directory; the bundle needs a directory of its own. ${fix}`);
  if (existsSync(join(path, '.git'))) {
    refuse(`${where} is the root of a repository (it holds .git); the bundle needs a directory of its own. ${fix}`);
  }
}

/** The nearest directory that exists at or above `path`: where the out dir would be created. */
function existingAncestor(path: string): string {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function refuseUnwritable(where: string, dir: string): void {
  try {
    accessSync(dir, constants.W_OK);
  } catch (error) {
    if (errorCode(error) !== 'EACCES' && errorCode(error) !== 'EROFS') throw error;
    const why = errorCode(error) === 'EROFS' ? 'is on a read-only file system' : 'is not writable for this user';
    refuse(`${where} cannot be written: ${quote(dir)} ${why}. Choose a directory you can write to.`);
  }
}

/**
 * Where a bundle sits below `dir` (the directory of a file list, or of a bundle written before
 * the list existed), for the message; a bounded search, as `dir` may be large.
 */
function bundleBelow(root: string, dir: string): string | undefined {
  const queue = [dir];
  let visited = 0;
  while (queue.length > 0 && visited < 5000) {
    const current = queue.shift()!;
    let entries;
    try {
      entries = readdirSync(join(root, current), { withFileTypes: true });
    } catch {
      continue;
    }
    visited += entries.length;
    const files = entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
    if (files.includes(FILE_LIST)) return current;
    if (files.includes('Kustomization') && isGenerated(join(root, current, 'Kustomization'))) return current;
    for (const entry of entries) {
      if (entry.isDirectory() && entry.name !== '.git' && entry.name !== 'node_modules') {
        queue.push(join(current, entry.name));
      }
    }
  }
  return undefined;
}

function refuseForeign(out: string, where: string, path: string, foreign: readonly string[]): never {
  for (const entry of foreign.filter((name) => name.endsWith('/'))) {
    const below = bundleBelow(path, entry.slice(0, -1));
    if (below !== undefined) {
      refuse(
        `${where} holds another bundle, in ${quote(join(out, below))}; a bundle needs a directory of its own, ` +
          `never one above another. Choose a new or empty directory, e.g. ${quote(join(out, 'ecr-k8s-credentials'))}.`,
      );
    }
  }
  const shown = foreign.slice(0, 3).map((name) => quote(join(out, name)));
  const more = foreign.length > 3 ? ` and ${foreign.length - 3} more` : '';
  refuse(
    `${where} holds ${shown.join(', ')}${more}, which ecr-k8s-credentials did not write; it writes only into a ` +
      `directory that holds nothing but its own files. Move ${foreign.length > 1 ? 'them' : 'it'} away, or ` +
      `choose a new or empty directory.`,
  );
}

/** The paths a file list holds; a line that is not a plain relative path means it was edited. */
function readFileList(where: string, path: string): string[] {
  const lines = readFileSync(join(path, FILE_LIST), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'));
  for (const line of lines) {
    if (!LISTED_PATH.test(line) || line === FILE_LIST) {
      refuse(
        `${where}: its ${FILE_LIST} lists ${quote(line)}, which is not a file the command writes, ` +
          `so the list was edited. Restore it from version control, or empty the directory and run again.`,
      );
    }
  }
  return [...new Set(lines)];
}

/**
 * What an existing out dir holds, checked before anything changes: every entry must be a file
 * the list names (or, with no list, a file with the generated header in the layout of an
 * earlier bundle), else the command refuses it.
 */
function ownedFiles(out: string, where: string, path: string, hasFileList: boolean): string[] {
  const listed = hasFileList ? readFileList(where, path) : [];
  const listedSet = new Set(listed);
  const listedDirs = new Set(listed.flatMap(directoriesOf));
  const owned: string[] = [];
  const foreign: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of readdirSync(join(path, relative), { withFileTypes: true })) {
      const file = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (file === FILE_LIST) continue;
      const adoptable = !hasFileList && (relative === '' || BUNDLE_SUBDIRS.has(relative));
      if (entry.isDirectory() && (listedDirs.has(file) || (adoptable && BUNDLE_SUBDIRS.has(file)))) {
        walk(file);
      } else if (entry.isFile() && (listedSet.has(file) || (adoptable && isGenerated(join(path, file))))) {
        owned.push(file);
      } else {
        foreign.push(entry.isDirectory() ? `${file}/` : file);
      }
    }
  };
  walk('');
  if (foreign.length > 0) refuseForeign(out, where, path, foreign);
  for (const file of owned) {
    if (!isGenerated(join(path, file))) {
      refuse(
        `${where}: ${quote(join(out, file))} no longer starts with the generated header, so it was ` +
          `changed by hand; the command will not overwrite it. Put the change into the flags or config file (or ` +
          `an overlay), then delete the file.`,
      );
    }
  }
  return owned;
}

/** Every check on the out dir, before anything is written. */
function inspectOutDir(out: string, where: string): OutDir {
  const absolute = resolve(out);
  let stats;
  try {
    stats = lstatSync(absolute);
  } catch (error) {
    if (errorCode(error) === 'ENOTDIR') {
      const file = existingAncestor(dirname(absolute));
      refuse(`${where} cannot be created: ${quote(file)} is a file, not a directory. Choose another directory.`);
    }
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  if (stats === undefined) {
    const ancestor = existingAncestor(absolute);
    if (!statSync(ancestor).isDirectory()) {
      refuse(`${where} cannot be created: ${quote(ancestor)} is a file, not a directory. Choose another directory.`);
    }
    refuseUnwritable(where, ancestor);
    return { given: out, path: absolute, exists: false, owned: [], hasFileList: false };
  }
  let path = absolute;
  if (stats.isSymbolicLink()) {
    try {
      path = realpathSync(absolute);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' && errorCode(error) !== 'ELOOP') throw error;
      refuse(
        `${where} is a symbolic link to ${quote(readlinkSync(absolute))}, which does not exist. Create that ` +
          `directory, or remove the link.`,
      );
    }
    stats = statSync(path);
  }
  if (!stats.isDirectory()) {
    refuse(`${where} is a file, not a directory. Choose a directory; it is created if missing.`);
  }
  refuseShared(out, where, path);
  refuseUnwritable(where, path);
  refuseUnwritable(where, dirname(path));
  const hasFileList = existsSync(join(path, FILE_LIST));
  return { given: out, path, exists: true, owned: ownedFiles(out, where, path, hasFileList), hasFileList };
}

/** Removes the directories of `file` inside `root` that are left empty. */
function removeEmptyDirs(root: string, file: string): void {
  for (let dir = dirname(file); dir !== '.'; dir = dirname(dir)) {
    try {
      rmdirSync(join(root, dir));
    } catch {
      return;
    }
  }
}

/**
 * Moves a staged bundle into an out dir an earlier run wrote, file by file (each rename is
 * atomic). The old files are kept as hard links in the staging dir until the end, so a failure
 * part-way puts them back; the file list names old and new files while both may be there, so
 * even an interrupted run leaves no file it does not own.
 */
function replaceBundle(out: OutDir, files: readonly BundleFile[], staging: string): void {
  const fresh = join(staging, 'bundle');
  const backup = join(staging, 'backup');
  const kept = out.hasFileList ? [...out.owned, FILE_LIST] : out.owned;
  for (const file of kept) {
    mkdirSync(dirname(join(backup, file)), { recursive: true });
    try {
      linkSync(join(out.path, file), join(backup, file));
    } catch {
      copyFileSync(join(out.path, file), join(backup, file));
    }
  }
  const newPaths = files.map((file) => file.path);
  const stale = out.owned.filter((file) => !newPaths.includes(file));
  writeFileSync(join(staging, FILE_LIST), fileList([...new Set([...out.owned, ...newPaths])]));

  const changed: string[] = [];
  try {
    changed.push(FILE_LIST);
    renameSync(join(staging, FILE_LIST), join(out.path, FILE_LIST));
    for (const file of newPaths) {
      mkdirSync(dirname(join(out.path, file)), { recursive: true });
      changed.push(file);
      renameSync(join(fresh, file), join(out.path, file));
    }
    for (const file of stale) {
      changed.push(file);
      rmSync(join(out.path, file), { force: true });
      removeEmptyDirs(out.path, file);
    }
    renameSync(join(fresh, FILE_LIST), join(out.path, FILE_LIST));
  } catch (error) {
    for (const file of changed.reverse()) {
      try {
        if (existsSync(join(backup, file))) {
          mkdirSync(dirname(join(out.path, file)), { recursive: true });
          renameSync(join(backup, file), join(out.path, file));
        } else {
          rmSync(join(out.path, file), { force: true });
          removeEmptyDirs(out.path, file);
        }
      } catch {
        // Put back what can be; the first error is the one to report.
      }
    }
    throw error;
  }
}

/**
 * Writes the bundle so that a failure leaves the out dir as it was: everything is checked
 * first (see inspectOutDir), the files are written to a staging dir next to the out dir, then
 * moved in: a new out dir with one rename, an earlier bundle file by file (replaceBundle).
 * Files of an earlier run that the new bundle no longer has are removed; nothing else is.
 * Messages name the out dir as `option` (`--out-dir`, or the key in a config file) says.
 */
export function writeBundle(files: readonly BundleFile[], outDir: string, option = '--out-dir'): void {
  const out = inspectOutDir(outDir, `${option} ${quote(outDir)}`);
  const parent = dirname(out.path);
  // mkdir -p returns the first directory it made: removed again if the write fails.
  const createdParent = mkdirSync(parent, { recursive: true });
  let staging: string | undefined;
  try {
    staging = mkdtempSync(join(parent, `.${basename(out.path)}.synth-`));
    // mkdtemp makes a 0700 dir; the bundle dir gets the usual mode (umask applies).
    const fresh = join(staging, 'bundle');
    mkdirSync(fresh);
    for (const file of files) {
      mkdirSync(dirname(join(fresh, file.path)), { recursive: true });
      writeFileSync(join(fresh, file.path), file.content);
    }
    writeFileSync(join(fresh, FILE_LIST), fileList(files.map((file) => file.path)));
    if (out.exists) replaceBundle(out, files, staging);
    else renameSync(fresh, out.path);
  } catch (error) {
    if (createdParent !== undefined) rmSync(createdParent, { recursive: true, force: true });
    throw error;
  } finally {
    if (staging !== undefined) rmSync(staging, { recursive: true, force: true });
  }
}

/** An error from the file system (it has a code and a system call), not a bug. */
export function isFileSystemError(error: unknown): error is NodeJS.ErrnoException & { syscall: string } {
  return (
    error instanceof Error &&
    typeof (error as NodeJS.ErrnoException).code === 'string' &&
    typeof (error as NodeJS.ErrnoException).syscall === 'string'
  );
}

const ACTIONS: Readonly<Record<string, string>> = {
  mkdir: 'create',
  mkdtemp: 'create a directory in',
  open: 'write',
  write: 'write',
  rename: 'move into place',
  link: 'keep a copy of',
  copyfile: 'keep a copy of',
  unlink: 'remove',
  rmdir: 'remove',
  scandir: 'list',
  read: 'read',
  lstat: 'inspect',
  stat: 'inspect',
  realpath: 'resolve',
  readlink: 'resolve',
};

/** One line naming the path and the cause, e.g. `cannot create "/srv/x": permission denied (EACCES).` */
export function fileSystemProblem(error: NodeJS.ErrnoException & { syscall: string }): string {
  // Node's message is "CODE: cause, syscall 'path'"; the cause is the readable part.
  const cause = /^[A-Z0-9_]+: ([^,]+)/.exec(error.message)?.[1] ?? error.message;
  const action = ACTIONS[error.syscall] ?? error.syscall;
  // A rename names its source in `path` and where it was going in `dest`: the out dir's file.
  const target = (error as { dest?: string }).dest ?? error.path;
  const path = target === undefined ? '' : ` ${quote(target)}`;
  return `cannot ${action}${path}: ${cause} (${error.code}).`;
}
