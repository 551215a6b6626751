// What VS Code's integrated terminals get of the window's runtime server: while it is ready,
// FGLOCAL_RUNTIME_SERVER=<its folder> (an invoke of the extension's own fglocal typed there is forked by
// its zygote; a user's own fglocal is another copy, which the server does not serve) and
// FGLOCAL_LAUNCHER=<its native launcher> when it built one (for `"$FGLOCAL_LAUNCHER" invoke …`; never
// its folder on PATH, which would shadow the user's own fglocal with the bundled one); nothing
// otherwise. Not persistent: a folder from an earlier window is dead. A value left in a terminal
// opened earlier is harmless: fglocal runs in full when the folder is gone, not this user's private
// one, nobody listens there, or the server is another fglocal's (tests/test_launcher.py and
// tests/test_runtime_server.py check it). No VS Code API here: unit-tested with the real server.
import { ENV_VARIABLE, LAUNCHER_LINE, ServerStatus } from './runtimeServer';

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

/** The variables terminals get while the server is in `status` (none unless it is ready). */
export function terminalVariables(status: ServerStatus): Record<string, string> {
  if (status.kind !== 'ready') return {};
  return { [ENV_VARIABLE]: status.folder, ...(status.launcher !== undefined ? { [LAUNCHER_VARIABLE]: status.launcher } : {}) };
}

/** What the terminal's "environment changed" UI says of `variables`. */
export function terminalDescription(variables: Record<string, string>): string | undefined {
  if (variables[ENV_VARIABLE] === undefined) return undefined;
  const launcher = variables[LAUNCHER_VARIABLE] !== undefined ? ` and ${LAUNCHER_VARIABLE} its native launcher ("$${LAUNCHER_VARIABLE}" invoke … skips the Python start-up)` : '';
  return `FunctionGraph fast cold starts: ${ENV_VARIABLE} names this window's runtime server, so fglocal invoke here forks its instances from it${launcher}. Setting: functiongraph.runtimeServer.terminals.`;
}

/**
 * Makes `environment` give new terminals what `status` calls for (nothing when `enabled` is false):
 * sets, replaces or deletes each variable, leaving one that already has its value untouched (so
 * open terminals are not told to relaunch for nothing).
 */
export function applyToTerminals(environment: TerminalEnvironment, status: ServerStatus, enabled: boolean): void {
  environment.persistent = false;
  const wanted = enabled ? terminalVariables(status) : {};
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
