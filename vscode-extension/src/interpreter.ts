// Which Python runs the kit's tools, and whether it is good enough. No VS Code API here: unit-tested.
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';

/** The bundled pygls/debugpy wheels need Python 3.10 or newer. */
export const MIN_TOOL_PYTHON: readonly [number, number] = [3, 10];

export type InterpreterSource = 'setting' | 'python-extension' | 'default';

/** An interpreter command (argv prefix) and where it came from. */
export interface InterpreterChoice {
  readonly command: readonly string[];
  readonly source: InterpreterSource;
}

export interface InterpreterInfo {
  readonly executable: string;
  readonly version: readonly [number, number, number];
}

export type ProbeResult =
  | { readonly ok: true; readonly info: InterpreterInfo }
  | { readonly ok: false; readonly problem: 'not-found' | 'too-old' | 'broken'; readonly detail: string };

/** Expands `~` and `${workspaceFolder}` / `${userHome}` in an interpreter path setting. */
export function expandPathSetting(value: string, workspaceFolder: string | undefined, home = os.homedir()): string {
  let result = value.trim();
  if (result === '~' || result.startsWith('~/')) result = path.join(home, result.slice(1));
  result = result.replace(/\$\{userHome\}/g, home);
  if (workspaceFolder !== undefined) result = result.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
  return result;
}

/**
 * The interpreter to use: the `functiongraph.python` setting, else the Python extension's active
 * interpreter when that extension is installed, else `python3` from PATH.
 */
export function chooseInterpreter(
  setting: string | undefined,
  fromPythonExtension: readonly string[] | undefined,
  workspaceFolder?: string,
): InterpreterChoice {
  if (setting !== undefined && setting.trim() !== '') {
    return { command: [expandPathSetting(setting, workspaceFolder)], source: 'setting' };
  }
  const fromExtension = fromPythonExtension?.filter((part) => part !== '');
  if (fromExtension !== undefined && fromExtension.length > 0) {
    return { command: fromExtension, source: 'python-extension' };
  }
  return { command: ['python3'], source: 'default' };
}

const PROBE_SCRIPT = 'import json, sys; print(json.dumps({"executable": sys.executable, "version": list(sys.version_info[:3])}))';

/** Parses the probe script's output; undefined when it is not what the script prints. */
export function parseProbeOutput(stdout: string): InterpreterInfo | undefined {
  const line = stdout.trim().split(/\r?\n/).pop() ?? '';
  try {
    const data: unknown = JSON.parse(line);
    if (typeof data !== 'object' || data === null) return undefined;
    const { executable, version } = data as { executable?: unknown; version?: unknown };
    if (typeof executable !== 'string' || !Array.isArray(version) || version.length !== 3) return undefined;
    if (!version.every((part): part is number => Number.isInteger(part))) return undefined;
    return { executable, version: [version[0], version[1], version[2]] };
  } catch {
    return undefined;
  }
}

/** True when `version` is at least `minimum` (major, minor). */
export function isRecentEnough(version: readonly number[], minimum: readonly [number, number] = MIN_TOOL_PYTHON): boolean {
  const [major = 0, minor = 0] = version;
  return major > minimum[0] || (major === minimum[0] && minor >= minimum[1]);
}

/** Runs the interpreter once to learn its path and version, and checks it is new enough. */
export function probeInterpreter(command: readonly string[], timeoutMs = 15000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const [program, ...args] = command;
    if (program === undefined) {
      resolve({ ok: false, problem: 'not-found', detail: 'no interpreter command' });
      return;
    }
    let stdout = '';
    let stderr = '';
    const child = spawn(program, [...args, '-c', PROBE_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    // A wedged interpreter (e.g. a wrapper script waiting for input) must not hang activation.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const problem = error.code === 'ENOENT' || error.code === 'EACCES' ? 'not-found' : 'broken';
      resolve({ ok: false, problem, detail: error.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const info = parseProbeOutput(stdout);
      if (code !== 0 || info === undefined) {
        const why = signal ? `killed by ${signal}` : `exit code ${code}`;
        resolve({ ok: false, problem: 'broken', detail: `${why}: ${stderr.trim().slice(0, 500)}` });
      } else if (!isRecentEnough(info.version)) {
        resolve({ ok: false, problem: 'too-old', detail: info.version.join('.') });
      } else {
        resolve({ ok: true, info });
      }
    });
  });
}

/** The one message shown to the user when the interpreter cannot run the tools, saying how to fix it. */
export function describeProblem(choice: InterpreterChoice, result: Exclude<ProbeResult, { ok: true }>): string {
  const name = choice.command.join(' ');
  const where =
    choice.source === 'setting'
      ? 'set in "functiongraph.python"'
      : choice.source === 'python-extension'
        ? "selected in the Python extension"
        : 'found on PATH';
  const need = `Python ${MIN_TOOL_PYTHON.join('.')} or newer`;
  switch (result.problem) {
    case 'not-found':
      return `FunctionGraph needs ${need}, but "${name}" (${where}) was not found. Install Python 3 or set "functiongraph.python" to an interpreter's path.`;
    case 'too-old':
      return `FunctionGraph needs ${need} to run its language server and debugger, but "${name}" (${where}) is Python ${result.detail}. Set "functiongraph.python" to a newer interpreter; your function's runtime can still be older.`;
    case 'broken':
      return `FunctionGraph could not run "${name}" (${where}): ${result.detail}. Set "functiongraph.python" to a working Python ${MIN_TOOL_PYTHON.join('.')}+ interpreter.`;
  }
}
