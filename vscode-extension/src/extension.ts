// Entry point: wires the parts together. Each part lives in its own module.
import * as vscode from 'vscode';
import { bundledPaths } from './bundle';
import { registerCloudCommands } from './cloud';
import { registerCommands } from './commands';
import { registerDebugging } from './debug';
import { log } from './log';
import { onDidChangeInterpreter, watchInterpreter } from './python';
import { initPythonStatus } from './pythonStatus';
import { initRuntimeServer, stopRuntimeServer } from './runtimeServerControl';
import { pushSettings, startServer, stopServer } from './server';
import { initStatusBar } from './statusBar';
import { initTestEvents, onDidChangeTestEvent } from './testEvents';

/** Called by VS Code when a Python file or a function folder opens. */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const paths = bundledPaths(context.extensionPath);
  context.subscriptions.push(log());
  initTestEvents(context);
  registerCommands(context);
  registerCloudCommands(context);
  registerDebugging(context);
  context.subscriptions.push(
    vscode.commands.registerCommand('functiongraph.restartServer', () => startServer(paths)),
    vscode.commands.registerCommand('functiongraph.showOutput', () => log().show()),
    onDidChangeInterpreter(() => void startServer(paths)),
    // The server completes the selected test event's keys: tell it when the selection changes.
    onDidChangeTestEvent(() => void pushSettings()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('functiongraph') && !event.affectsConfiguration('functiongraph.python')) {
        void pushSettings();
      }
    }),
  );
  initStatusBar(context);
  initPythonStatus(context, paths);
  await vscode.commands.executeCommand('setContext', 'functiongraph.active', true);
  await watchInterpreter(context);
  void startServer(paths);
  initRuntimeServer(context, paths); // in the background: runs work without it meanwhile
}

/** Called by VS Code on shutdown: stops the language server and the runtime server. */
export async function deactivate(): Promise<void> {
  await Promise.all([stopServer(), stopRuntimeServer()]);
}
