// Where a function lives and what its config says: the folder holding `fglocal.json`, its handler,
// initializer and runtime, and the entry for a given Python file. No VS Code API here: unit-tested.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { CONFIG_FILE_NAME, DEFAULT_HANDLER, DEFAULT_RUNTIME, ENTRY_PATTERN, RUNTIMES, entryFiles } from './contract.generated';

// The function contract comes from fglocal/contract.py (generated into contract.generated.ts).
export { CONFIG_FILE_NAME, DEFAULT_HANDLER, DEFAULT_RUNTIME, RUNTIMES };
const ENTRY = ENTRY_PATTERN;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A function folder as the tools see it. */
export interface FunctionFolder {
  /** The folder holding fglocal.json, or the folder taken as the function when there is none. */
  readonly functionDir: string;
  /** Its fglocal.json, when there is one. */
  readonly configFile: string | undefined;
  /** Where the code is: functionDir + the config's codeUri. Entries are relative to it. */
  readonly codeRoot: string;
  readonly handler: string;
  readonly initializer: string | undefined;
  readonly runtime: string;
  /** Where runtime and handler came from, for the status bar. */
  readonly runtimeSource: 'setting' | 'config' | 'default';
}

/** A function config file that cannot be used; `field` names what to fix. */
export class FunctionConfigError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    message: string,
  ) {
    super(`${path.basename(file)}: ${message}`);
    this.name = 'FunctionConfigError';
  }
}

/** True when `entry` looks like `file.function` or `pkg.file.function`. */
export function isEntry(entry: string): boolean {
  return ENTRY.test(entry);
}

/** The nearest fglocal.json at or above `start`, not looking above `stop` (when given). */
export function findConfigFile(start: string, stop?: string): string | undefined {
  let dir = path.resolve(start);
  const limit = stop === undefined ? undefined : path.resolve(stop);
  for (;;) {
    const candidate = path.join(dir, CONFIG_FILE_NAME);
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (dir === limit || parent === dir || (limit !== undefined && !isInside(parent, limit))) return undefined;
    dir = parent;
  }
}

/** True when `child` is `parent` or inside it. */
export function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

interface ConfigFields {
  handler?: string;
  initializer?: string;
  runtime?: string;
  codeUri?: string;
}

/** The fields of fglocal.json the extension uses, checked; throws FunctionConfigError. */
export function parseFunctionConfig(text: string, file: string): ConfigFields {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new FunctionConfigError(file, 'config file', `not valid JSON (${(error as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new FunctionConfigError(file, 'config file', 'must hold a JSON object');
  }
  const record = data as Record<string, unknown>;
  const fields: ConfigFields = {};
  const text_ = (key: keyof ConfigFields): string | undefined => {
    const value = record[key];
    if (value === undefined || (key === 'initializer' && value === null)) return undefined;
    if (typeof value !== 'string') throw new FunctionConfigError(file, key, `"${key}" must be a string`);
    return value;
  };
  const handler = text_('handler');
  if (handler !== undefined) {
    if (!isEntry(handler)) throw new FunctionConfigError(file, 'handler', `"handler" must look like "index.handler", not "${handler}"`);
    fields.handler = handler;
  }
  const initializer = text_('initializer');
  if (initializer !== undefined) {
    if (!isEntry(initializer)) {
      throw new FunctionConfigError(file, 'initializer', `"initializer" must look like "index.initializer", not "${initializer}"`);
    }
    fields.initializer = initializer;
  }
  const runtime = text_('runtime');
  if (runtime !== undefined) {
    if (!(RUNTIMES as readonly string[]).includes(runtime)) {
      throw new FunctionConfigError(file, 'runtime', `"runtime" must be one of ${RUNTIMES.join(', ')}, not "${runtime}"`);
    }
    fields.runtime = runtime;
  }
  const codeUri = text_('codeUri');
  if (codeUri !== undefined) fields.codeUri = codeUri;
  return fields;
}

/** Overrides from the `functiongraph.*` settings; empty strings mean "not set". */
export interface EntryOverrides {
  readonly handler?: string;
  readonly initializer?: string;
  readonly runtime?: string;
}

/**
 * The function that `target` (a file or folder) belongs to, found as the language server finds it:
 * the nearest folder at or above it (within `workspaceFolder`) holding fglocal.json; else the nearest
 * holding the handler's module (`index.py` by default); else the workspace folder (or target's own).
 */
export function locateFunction(target: string, workspaceFolder?: string, overrides: EntryOverrides = {}): FunctionFolder {
  const start = isDirectory(target) ? target : path.dirname(target);
  const configFile = findConfigFile(start, workspaceFolder);
  const functionDir = configFile ? path.dirname(configFile) : folderWithHandler(start, workspaceFolder, overrides.handler || DEFAULT_HANDLER);
  const fields = configFile ? parseFunctionConfig(fs.readFileSync(configFile, 'utf8'), configFile) : {};
  const codeRoot = path.resolve(functionDir, fields.codeUri ?? '.');
  if (configFile && !isDirectory(codeRoot)) {
    throw new FunctionConfigError(configFile, 'codeUri', `"codeUri" points to ${codeRoot}, which is not a folder`);
  }
  const runtimeSource = overrides.runtime ? 'setting' : fields.runtime ? 'config' : 'default';
  return {
    functionDir,
    configFile,
    codeRoot,
    handler: overrides.handler || fields.handler || DEFAULT_HANDLER,
    initializer: overrides.initializer || fields.initializer,
    runtime: overrides.runtime || fields.runtime || DEFAULT_RUNTIME,
    runtimeSource,
  };
}

function folderWithHandler(start: string, workspaceFolder: string | undefined, handler: string): string {
  const limit = workspaceFolder === undefined ? undefined : path.resolve(workspaceFolder);
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(fileForEntry(dir, handler))) return dir;
    if (dir === limit || path.dirname(dir) === dir || (limit !== undefined && !isInside(path.dirname(dir), limit))) break;
  }
  return limit !== undefined && isInside(start, limit) ? limit : start;
}

function isDirectory(target: string): boolean {
  try {
    return fs.statSync(target).isDirectory();
  } catch {
    return false;
  }
}

/** The module path of a Python file under `codeRoot` (`index`, `pkg.mod`), or undefined. */
export function moduleForFile(codeRoot: string, file: string): string | undefined {
  if (!file.endsWith('.py') || !isInside(file, codeRoot)) return undefined;
  const parts = path.relative(codeRoot, file).slice(0, -3).split(path.sep);
  return parts.every((part) => IDENTIFIER.test(part)) ? parts.join('.') : undefined;
}

/** The file an entry's module lives in (`index.handler` → `<codeRoot>/index.py`). */
export function fileForEntry(codeRoot: string, entry: string): string {
  return path.join(codeRoot, ...entryFiles(entry)[0].split('/'));
}

/** True when `source` defines a top-level function `name`. */
export function definesFunction(source: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^(async\\s+)?def\\s+${escaped}\\s*\\(`, 'm').test(source);
}

/**
 * The handler to run for `file`: the configured handler when it lives in that file; else
 * `<module>.handler` when the file defines `handler`; else the configured handler.
 */
export function handlerForFile(fn: FunctionFolder, file: string, source: string): string {
  if (path.resolve(fileForEntry(fn.codeRoot, fn.handler)) === path.resolve(file)) return fn.handler;
  const module = moduleForFile(fn.codeRoot, file);
  if (module !== undefined && definesFunction(source, 'handler')) return `${module}.handler`;
  return fn.handler;
}

/** A debug configuration of type `functiongraph` for running `handler` with `eventFile`. */
export function launchConfiguration(
  fn: FunctionFolder,
  handler: string,
  eventFile: string | undefined,
  initializer?: string,
): Record<string, unknown> {
  const config: Record<string, unknown> = {
    type: 'functiongraph',
    request: 'launch',
    name: `FunctionGraph: ${handler}`,
    handler,
    codeUri: fn.functionDir,
  };
  if (initializer !== undefined) config.initializer = initializer;
  if (eventFile !== undefined) config.eventFile = eventFile;
  return config;
}

/** True for the empty configuration VS Code passes when F5 is pressed without a launch.json. */
export function isEmptyLaunch(config: { type?: unknown; request?: unknown; name?: unknown }): boolean {
  return !config.type && !config.request && !config.name;
}
