// Entry point: wires the parts together. Each part lives in its own module.
import * as vscode from 'vscode';
import { bundledPaths } from './bundle';
import { log } from './log';
import { onDidChangeInterpreter, watchInterpreter } from './python';
import { pushSettings, startServer, stopServer } from './server';

/** Called by VS Code when a Python file or a function folder opens. */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const paths = bundledPaths(context.extensionPath);
  context.subscriptions.push(log());
  await vscode.commands.executeCommand('setContext', 'functiongraph.active', true);
  await watchInterpreter(context);
  context.subscriptions.push(
    vscode.commands.registerCommand('functiongraph.restartServer', () => startServer(paths)),
    vscode.commands.registerCommand('functiongraph.showOutput', () => log().show()),
    onDidChangeInterpreter(() => void startServer(paths)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('functiongraph') && !event.affectsConfiguration('functiongraph.python')) {
        void pushSettings();
      }
    }),
  );
  void startServer(paths);
}

/** Called by VS Code on shutdown: stops the language server. */
export function deactivate(): Promise<void> {
  return stopServer();
}
