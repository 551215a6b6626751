// What VS Code's integrated terminals get of the window's runtime server: while it is ready,
// FGLOCAL_RUNTIME_SERVER=<its folder> (an invoke of the extension's own fglocal typed there is forked by
// its zygote; a user's own fglocal is another copy, which the server does not serve) and
// FGLOCAL_LAUNCHER=<a script that runs its native launcher with the tools' environment> when it built
// one (for `"$FGLOCAL_LAUNCHER" invoke …`; never on PATH, which would shadow the user's own fglocal with
// the bundled one); nothing otherwise. The script is needed because a terminal has the user's
// environment, not the tools' (bundled/tool and bundled/libs on PYTHONPATH): the launcher's fallback
// `python -m fglocal` would not find fglocal there, and the supervisor serves only a run whose PYTHON*
// variables are its own. Not persistent: a folder from an earlier window is dead. A value left in a terminal
// opened earlier is harmless: fglocal runs in full when the folder is gone, not this user's private
// one, nobody listens there, or the server is another fglocal's (tests/test_launcher.py and
// tests/test_runtime_server.py check it). No VS Code API here: unit-tested with the real server.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENV_VARIABLE, LAUNCHER_LINE, Launcher, ServerStatus } from './runtimeServer';

/** The terminals' variable with the launcher's path (named as the server's line that gives it). */
export const LAUNCHER_VARIABLE = LAUNCHER_LINE;

/** The part of vscode.EnvironmentVariableCollection used here. */
export interface TerminalEnvironment {
  persistent: boolean;
  description: unknown;
  get(variable: string): { readonly value: string } | undefined;
  replace(variable: string, value: string): void;
  delete(variable: string): void;
}

/**
 * The variables terminals get while the server is in `status` (none unless it is ready): its folder,
 * and `launcher` (the terminals' launcher script, see terminalLauncherScript) when given.
 */
export function terminalVariables(status: ServerStatus, launcher?: string): Record<string, string> {
  if (status.kind !== 'ready') return {};
  return { [ENV_VARIABLE]: status.folder, ...(status.launcher !== undefined && launcher !== undefined ? { [LAUNCHER_VARIABLE]: launcher } : {}) };
}

function shellQuoted(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

/**
 * The terminals' launcher: a POSIX shell script that runs `launcher` with the tools' PYTHONPATH
 * (`pythonPath`, the bundled folders; the user's own after them, as bundle.ts's toolEnvironment) and
 * PYTHONUNBUFFERED=1, as runs from the editor have it; with the launcher gone (its server stopped),
 * the tools' `python -m fglocal` in full.
 */
export function terminalLauncherScript(launcher: Launcher, pythonPath: readonly string[]): string {
  return [
    '#!/bin/sh',
    '# fglocal through the runtime server of a VS Code window, written by the FunctionGraph extension.',
    `launcher=${shellQuoted(launcher.program)}`,
    `PYTHONPATH=${shellQuoted(pythonPath.join(path.delimiter))}"\${PYTHONPATH:+${path.delimiter}\$PYTHONPATH}"`,
    'PYTHONUNBUFFERED=1',
    'export PYTHONPATH PYTHONUNBUFFERED',
    '[ -x "$launcher" ] && exec "$launcher" "$@"',
    `exec ${shellQuoted(launcher.python)} -m fglocal "$@"`,
    '',
  ].join('\n');
}

/** Writes the terminals' launcher into `folder` (private to this user); its path. */
export function writeTerminalLauncher(folder: string, launcher: Launcher, pythonPath: readonly string[]): string {
  const file = path.join(folder, 'fglocal');
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, terminalLauncherScript(launcher, pythonPath), { mode: 0o700 });
  fs.renameSync(temporary, file); // a terminal running the old one meanwhile keeps reading it whole
  return file;
}

/** What the terminal's "environment changed" UI says of `variables`. */
export function terminalDescription(variables: Record<string, string>): string | undefined {
  if (variables[ENV_VARIABLE] === undefined) return undefined;
  const launcher = variables[LAUNCHER_VARIABLE] !== undefined ? ` and ${LAUNCHER_VARIABLE} its native launcher ("$${LAUNCHER_VARIABLE}" invoke … skips the Python start-up)` : '';
  return `FunctionGraph fast cold starts: ${ENV_VARIABLE} names this window's runtime server, so fglocal invoke here forks its instances from it${launcher}. Setting: functiongraph.runtimeServer.terminals.`;
}

/**
 * Makes `environment` give new terminals what `status` calls for (nothing when `enabled` is false),
 * with `launcher` as the terminals' launcher:
 * sets, replaces or deletes each variable, leaving one that already has its value untouched (so
 * open terminals are not told to relaunch for nothing).
 */
export function applyToTerminals(environment: TerminalEnvironment, status: ServerStatus, enabled: boolean, launcher?: string): void {
  environment.persistent = false;
  const wanted = enabled ? terminalVariables(status, launcher) : {};
  for (const variable of [ENV_VARIABLE, LAUNCHER_VARIABLE]) {
    const value = wanted[variable];
    if (value === undefined) {
      if (environment.get(variable) !== undefined) environment.delete(variable);
    } else if (environment.get(variable)?.value !== value) {
      environment.replace(variable, value);
    }
  }
  environment.description = terminalDescription(wanted);
}
