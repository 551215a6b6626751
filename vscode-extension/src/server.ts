// The language client: starts `python -m server` from the bundled folders and keeps it in step with
// the settings. Restarted on demand and when the interpreter changes.
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';
import { BundledPaths, toolEnvironment } from './bundle';
import { errorMessage, log } from './log';
import { serverSettings } from './options';
import { resolveInterpreter } from './python';
import { readSettings } from './settings';
import { selectedEventFiles } from './testEvents';

let client: LanguageClient | undefined;
let starting: Promise<void> | undefined;

export type ServerState = 'starting' | 'running' | 'failed' | 'stopped';
let state: ServerState = 'stopped';
const stateChanged = new vscode.EventEmitter<ServerState>();

/** Fires when the language server starts, stops or fails. */
export const onDidChangeServerState = stateChanged.event;

/** Where the language server is now. */
export function serverState(): ServerState {
  return state;
}

function setState(next: ServerState): void {
  if (next === state) return;
  state = next;
  stateChanged.fire(next);
}

/** The running client, if any (for tests and status). */
export function languageClient(): LanguageClient | undefined {
  return client;
}

async function createClient(paths: BundledPaths): Promise<LanguageClient | undefined> {
  const interpreter = await resolveInterpreter();
  if (interpreter === undefined) return undefined; // the user has been told what to fix
  const serverOptions: ServerOptions = {
    command: interpreter.executable,
    args: ['-m', 'server'],
    // cwd = our own folder, so a user's module named `server` can never take the place of ours.
    options: { cwd: paths.tool, env: toolEnvironment(paths) },
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'python' },
      { scheme: 'untitled', language: 'python' },
      // fglocal.json too (by name, whatever language mode it is in): the server checks its open text,
      // so an unsaved edit is diagnosed at once (the disk copy once it is closed).
      { scheme: 'file', pattern: '**/fglocal.json' },
    ],
    outputChannel: log(),
    traceOutputChannel: log(),
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    initializationOptions: serverSettings(readSettings(), selectedEventFiles()),
    // No file watcher of our own: the server registers the ones it needs (*.py, fglocal.json, events,
    // env files) with client/registerCapability, and the client then sends their changes.
  };
  return new LanguageClient('functiongraph', 'FunctionGraph Language Server', serverOptions, clientOptions);
}

/** Starts the language server (stopping a running one first). */
export function startServer(paths: BundledPaths): Promise<void> {
  const previous = starting ?? Promise.resolve();
  starting = previous.then(async () => {
    await stopServer();
    setState('starting');
    const next = await createClient(paths);
    if (next === undefined) {
      setState('failed');
      return;
    }
    client = next;
    next.onDidChangeState((event) => {
      if (client !== next) return;
      if (event.newState === State.Running) setState('running');
      else if (event.newState === State.Starting) setState('starting');
      else setState('failed');
    });
    try {
      await next.start();
      setState('running');
      log().info('FunctionGraph language server started');
    } catch (error) {
      setState('failed');
      log().error(`The FunctionGraph language server did not start: ${errorMessage(error)}`);
      void vscode.window.showErrorMessage(
        'The FunctionGraph language server did not start. The "FunctionGraph" output has the details.',
        'Show Output',
      ).then((action) => action && log().show());
    }
  });
  return starting;
}

/** Stops the language server, if running. */
export async function stopServer(): Promise<void> {
  const running = client;
  client = undefined;
  setState('stopped');
  if (running === undefined) return;
  try {
    if (running.state !== State.Stopped) await running.stop(5000);
  } catch (error) {
    log().warn(`Stopping the language server: ${errorMessage(error)}`);
  }
  await running.dispose().catch(() => undefined);
}

/** Sends the current settings to the server (called when `functiongraph.*` settings change). */
export async function pushSettings(): Promise<void> {
  if (client?.state !== State.Running) return;
  await client.sendNotification(DidChangeConfigurationNotification.type, {
    settings: serverSettings(readSettings(), selectedEventFiles()),
  });
}
