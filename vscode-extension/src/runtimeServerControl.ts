// Runs the window's runtime server (runtimeServer.ts) for the runtimes of the workspace's functions,
// with the tools' own interpreter and environment: started after activation, replaced when a
// fglocal.json, the runtime/handler settings, the interpreter or `functiongraph.runtimeServer.enabled`
// change, stopped on deactivate. Runs get its folder (and its launcher) through runtimeServerLease();
// integrated terminals get them as variables while it is ready (terminalEnvironment.ts).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BundledPaths, toolEnvironment } from './bundle';
import { CONFIG_FILE_NAME, FunctionConfigError, fileForEntry, locateFunction } from './functionConfig';
import { errorMessage, log } from './log';
import { onDidChangeInterpreter, resolveInterpreter } from './python';
import { ENV_VARIABLE, findServable, Lease, RuntimeServer, ServerSpec, ServerStatus } from './runtimeServer';
import { readSettings } from './settings';
import { applyToTerminals, LAUNCHER_VARIABLE, writeTerminalLauncher } from './terminalEnvironment';

export const RUNTIME_SERVER_SETTING = 'functiongraph.runtimeServer.enabled';
export const TERMINALS_SETTING = 'functiongraph.runtimeServer.terminals';
const MAX_CONFIG_FILES = 500;
const REFRESH_DELAY_MS = 200; // a burst of file events is looked at once, after it
const EXCLUDED = '**/{node_modules,.git,.venv,venv,.tox,dist,build,__pycache__}/**';

let server: RuntimeServer | undefined;
let reportedMissing = '';
const changed = new vscode.EventEmitter<void>();

/** Fires when the runtime server's status changes (starting, ready, stopped, failed). */
export const onDidChangeRuntimeServer = changed.event;

/** The server's status; `off` before activation. */
export function runtimeServerStatus(): ServerStatus {
  return server?.status() ?? { kind: 'off', reason: 'not started yet' };
}

/** The environment additions for one fglocal run of a function; release() when the run has ended. */
export function runtimeServerLease(): Lease {
  return server?.lease() ?? { env: {}, release: () => undefined };
}

/** The runtimes of the workspace's functions: every fglocal.json's, and a folder's own without one. */
async function workspaceRuntimes(): Promise<string[]> {
  const runtimes = new Set<string>();
  const files = await vscode.workspace.findFiles(`**/${CONFIG_FILE_NAME}`, EXCLUDED, MAX_CONFIG_FILES);
  const withConfig = new Set<string>();
  for (const file of files) {
    const folder = vscode.workspace.getWorkspaceFolder(file);
    if (folder !== undefined) withConfig.add(folder.uri.fsPath);
    try {
      runtimes.add(locateFunction(path.dirname(file.fsPath), folder?.uri.fsPath, readSettings(file)).runtime);
    } catch (error) {
      if (!(error instanceof FunctionConfigError)) throw error; // a broken config: its runs fail anyway
    }
  }
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    if (withConfig.has(folder.uri.fsPath) || folder.uri.scheme !== 'file') continue;
    try {
      const fn = locateFunction(folder.uri.fsPath, folder.uri.fsPath, readSettings(folder.uri));
      if (await exists(fileForEntry(fn.codeRoot, fn.handler))) runtimes.add(fn.runtime);
    } catch (error) {
      if (!(error instanceof FunctionConfigError)) throw error;
    }
  }
  return [...runtimes].sort();
}

async function exists(file: string): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(vscode.Uri.file(file));
    return true;
  } catch {
    return false;
  }
}

/** What the server should run now, or why it should not run. */
async function desired(paths: BundledPaths): Promise<{ spec?: ServerSpec; reason: string }> {
  if (process.platform !== 'linux') return { reason: 'the runtime server runs on Linux only' };
  const settings = readSettings();
  if (!settings.runtimeServerEnabled) return { reason: `${RUNTIME_SERVER_SETTING} is off` };
  const runtimes = await workspaceRuntimes();
  if (runtimes.length === 0) return { reason: 'no function in this workspace' };
  const interpreter = await resolveInterpreter();
  if (interpreter === undefined) return { reason: 'no Python interpreter for the tools' };
  const env = toolEnvironment(paths);
  delete env[ENV_VARIABLE]; // the server's own environment must not name another server
  const servable = await findServable(interpreter.executable, paths.tool, env, runtimes);
  const missing = JSON.stringify(servable.missing);
  if (missing !== reportedMissing) {
    reportedMissing = missing; // said once, not on every fglocal.json save
    for (const { runtime, message } of servable.missing) log().warn(`Fast cold starts: ${runtime} is not served: ${message}`);
  }
  if (servable.runtimes.length === 0) return { reason: `no Python found for ${runtimes.join(', ')}` };
  const spec = { python: interpreter.executable, cwd: paths.tool, env, runtimes: servable.runtimes, launcher: settings.runtimeServerLauncher };
  return { spec, reason: '' };
}

/** Starts the server in the background and keeps it in step; call once on activation. */
export function initRuntimeServer(context: vscode.ExtensionContext, paths: BundledPaths): void {
  const instance = new RuntimeServer(log());
  server = instance;
  let sequence = 0;
  let pending: NodeJS.Timeout | undefined;
  // Debounced: working out what to serve reads every fglocal.json and starts `fglocal python` per
  // runtime, and a git checkout or a search-and-replace sends a burst of events.
  const refresh = (): void => {
    if (pending !== undefined) clearTimeout(pending);
    pending = setTimeout(() => {
      pending = undefined;
      const mine = ++sequence;
      desired(paths).then(
        ({ spec, reason }) => mine === sequence && instance.update(spec, reason),
        (error: unknown) => log().error(`Runtime server: cannot tell what to serve: ${errorMessage(error)}`),
      );
    }, REFRESH_DELAY_MS);
  };
  // New integrated terminals get the server's folder (and a launcher script, in a private folder of
  // this window's, removed with it) while it is ready, nothing otherwise.
  let launcherFolder: string | undefined;
  const terminals = (): void => {
    const enabled = readSettings().runtimeServerTerminals;
    const status = instance.status();
    let launcher: string | undefined;
    if (enabled && status.kind === 'ready' && status.launcher !== undefined) {
      const lease = instance.lease();
      lease.release();
      try {
        launcherFolder ??= fs.mkdtempSync(path.join(os.tmpdir(), 'fglocal-terminals-'));
        if (lease.launcher !== undefined) launcher = writeTerminalLauncher(launcherFolder, lease.launcher, [paths.tool, paths.libs]);
      } catch (error) {
        log().warn(`Terminals get no ${LAUNCHER_VARIABLE}: cannot write its script: ${errorMessage(error)}`);
      }
    }
    applyToTerminals(context.environmentVariableCollection, status, enabled, launcher);
  };
  terminals();
  context.subscriptions.push({ dispose: () => launcherFolder !== undefined && fs.rmSync(launcherFolder, { recursive: true, force: true }) });
  const watcher = vscode.workspace.createFileSystemWatcher(`**/${CONFIG_FILE_NAME}`);
  context.subscriptions.push(
    changed,
    watcher,
    { dispose: () => clearTimeout(pending) },
    watcher.onDidCreate(refresh),
    watcher.onDidChange(refresh),
    watcher.onDidDelete(refresh),
    vscode.workspace.onDidChangeWorkspaceFolders(refresh),
    onDidChangeInterpreter(refresh),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(TERMINALS_SETTING)) terminals();
      if (['runtimeServer', 'runtime', 'handler'].some((key) => event.affectsConfiguration(`functiongraph.${key}`))) refresh();
    }),
    instance.onDidChange(() => {
      terminals();
      changed.fire();
    }),
  );
  refresh();
}

/** Stops the server (on deactivate) and waits until it and its processes have ended. */
export async function stopRuntimeServer(): Promise<void> {
  await server?.stop();
}
