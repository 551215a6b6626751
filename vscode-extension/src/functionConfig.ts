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
  const functionDir = configFile ? path.dirname(configFile) : folderWithHandler(start, workspaceFolder, overrides.handler || DEFAULT_HANDLER, !overrides.handler);
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
    handler: overrides.handler || fields.handler || inferHandler(codeRoot),
    initializer: overrides.initializer || fields.initializer,
    runtime: overrides.runtime || fields.runtime || DEFAULT_RUNTIME,
    runtimeSource,
  };
}

function folderWithHandler(start: string, workspaceFolder: string | undefined, handler: string, inferred: boolean): string {
  const limit = workspaceFolder === undefined ? undefined : path.resolve(workspaceFolder);
  const chain: string[] = [];
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    chain.push(dir);
    if (fs.existsSync(fileForEntry(dir, handler))) return dir;
    if (dir === limit || path.dirname(dir) === dir || (limit !== undefined && !isInside(path.dirname(dir), limit))) break;
  }
  // As the language server does: else the nearest folder whose modules define a handler-shaped function.
  const withHandler = inferred ? chain.find((dir) => candidateEntries(dir).length > 0) : undefined;
  if (withHandler !== undefined) return withHandler;
  return limit !== undefined && isInside(start, limit) ? limit : start;
}

const MAX_SCANNED_MODULES = 200;
const MAX_MODULE_BYTES = 1_000_000;
const EVENT_NAMES = new Set(['event', 'evt', '_event']);
const TOP_DEF = /^(?:async[ \t]+)?def[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(([^)]*)\)/gm;

/**
 * The top-level functions of `source` with the handler shape, as the language server defines it
 * (server/analysis/context_inference.py, handler_shaped): two positional parameters, the first
 * named like an event (`event`, `evt`) or the function named like a handler (`main_handler`).
 */
export function handlerShapedFunctions(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(TOP_DEF)) {
    const params = (match[2] ?? '').split(',').map((p) => p.split(/[:=]/)[0]!.trim()).filter((p) => p !== '');
    if (params.length !== 2 || params.some((p) => p.startsWith('*') || p === '/')) continue;
    const name = match[1]!;
    if (EVENT_NAMES.has(params[0]!) || name.toLowerCase().endsWith('handler')) found.push(name);
  }
  return found;
}

/** The handler entries a folder without a configured handler offers, best first (see the server's entries.py). */
export function candidateEntries(codeRoot: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(codeRoot).filter((name) => name.endsWith('.py') && IDENTIFIER.test(name.slice(0, -3))).sort();
  } catch {
    return [];
  }
  const candidates: [number, string, number, string][] = [];
  for (const name of names.slice(0, MAX_SCANNED_MODULES)) {
    const file = path.join(codeRoot, name);
    let source: string;
    try {
      const stat = fs.lstatSync(file);
      if (!stat.isFile() || stat.size > MAX_MODULE_BYTES) continue;
      source = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const module = name.slice(0, -3);
    if (module === 'index' && definesFunction(source, 'handler')) return [DEFAULT_HANDLER];
    for (const fn of handlerShapedFunctions(source)) candidates.push([module === 'index' ? 0 : 1, module, fn === 'handler' ? 0 : 1, fn]);
  }
  candidates.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || a[2] - b[2] || (a[3] < b[3] ? -1 : a[3] > b[3] ? 1 : 0));
  return candidates.map(([, module, , fn]) => `${module}.${fn}`);
}

/** The handler when nothing configures it: `index.handler` if index.py defines it, else the first candidate. */
export function inferHandler(codeRoot: string): string {
  return candidateEntries(codeRoot)[0] ?? DEFAULT_HANDLER;
}

function isDirectory(target: string): boolean {
  try {
    return fs.statSync(target).isDirectory();
  } catch {
    return false;
  }
}

/** The module path of a Python file under `codeRoot` (`index`, `pkg.mod`; `pkg/__init__.py` is `pkg`), or undefined. */
export function moduleForFile(codeRoot: string, file: string): string | undefined {
  if (!file.endsWith('.py') || !isInside(file, codeRoot)) return undefined;
  const parts = path.relative(codeRoot, file).slice(0, -3).split(path.sep);
  if (parts.length > 1 && parts[parts.length - 1] === '__init__') parts.pop();
  return parts.every((part) => IDENTIFIER.test(part)) ? parts.join('.') : undefined;
}

/**
 * The file an entry's module lives in: the first of the contract's files that exists
 * (`index.handler` → `<codeRoot>/index.py`, `pkg.handler` → `<codeRoot>/pkg/__init__.py`), as
 * fglocal.contract.find_entry_file finds it; the usual one (`.py`) when none does.
 */
export function fileForEntry(codeRoot: string, entry: string): string {
  const files = entryFiles(entry).map((relative) => path.join(codeRoot, ...relative.split('/')));
  return files.find((file) => isFile(file)) ?? files[0];
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
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
  const shaped = module === undefined ? undefined : handlerShapedFunctions(source)[0];
  if (shaped !== undefined) return `${module}.${shaped}`;
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
