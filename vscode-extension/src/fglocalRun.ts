// How a run spawns `fglocal`: an invoke with a runtime server lease that has the server's native
// launcher runs that launcher (fglocal's arguments and behaviour, without a Python start-up);
// everything else runs the tools' `python -m fglocal`. The one place that decides it, for every local
// run with a lease (Run Handler Locally, the local half of Compare Local and Cloud Result).
// The debugger never comes here: a debugged fglocal must be a Python process debugpy can follow.
// No VS Code API here: unit-tested with real processes.
import { Lease } from './runtimeServer';
import { runTool, ToolOptions, ToolRun } from './tool';

/** A command to spawn for fglocal, and which way it runs. */
export interface FglocalCommand {
  readonly program: string;
  readonly args: readonly string[];
  readonly via: 'launcher' | 'python';
}

/** What the log says of a run through the launcher (users and tests look for it). */
export const VIA_LAUNCHER = "via the runtime server's launcher";

export interface RunLog {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * The command that runs `fglocal ARGS` for a run holding `lease`, with the tools' interpreter
 * `python`: the lease's launcher for an `invoke` when it has one built for that same interpreter
 * (its fallback and the supervisor's token are that interpreter's), else `python -m fglocal ARGS`.
 */
export function fglocalCommand(python: string, args: readonly string[], lease: Lease): FglocalCommand {
  const launcher = lease.launcher;
  if (args[0] === 'invoke' && launcher !== undefined && launcher.python === python) return { program: launcher.program, args: [...args], via: 'launcher' };
  return { program: python, args: ['-m', 'fglocal', ...args], via: 'python' };
}

/** Which way `command` runs, for the log: the launcher, or Python (through the runtime server or not). */
export function describeWay(command: FglocalCommand, lease: Lease): string {
  if (command.via === 'launcher') return VIA_LAUNCHER;
  return Object.keys(lease.env).length > 0 ? 'via Python, through the runtime server' : 'via Python';
}

/** True for an error that means the program could not be started at all (so it produced nothing). */
function notStarted(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'EACCES';
}

/**
 * Runs `fglocal ARGS` (see fglocalCommand) to completion and logs `what` with the way it runs and
 * the command line. A launcher that cannot be started (ENOENT, EACCES: it printed and read nothing)
 * is replaced by `python -m fglocal` once, with a warning; other errors are the caller's.
 */
export async function runFglocal(python: string, args: readonly string[], lease: Lease, options: ToolOptions, log: RunLog, what: string): Promise<ToolRun> {
  const command = fglocalCommand(python, args, lease);
  log.info(`${what} ${describeWay(command, lease)}: ${command.program} ${command.args.join(' ')}`);
  try {
    return await runTool(command.program, command.args, options);
  } catch (error) {
    if (command.via !== 'launcher' || !notStarted(error)) throw error;
    const fallback = fglocalCommand(python, args, { env: lease.env, release: () => undefined });
    log.warn(`The runtime server's launcher ${command.program} could not be started (${(error as NodeJS.ErrnoException).code}); ${what} via Python instead: ${fallback.program} ${fallback.args.join(' ')}`);
    if (options.signal?.aborted) return { code: null, signal: null, stdout: '', stderr: '', cancelled: true };
    return runTool(fallback.program, fallback.args, options);
  }
}
