// The status bar item: the selected test event of the active editor's function (its runtime and
// interpreter are the next item, pythonStatus.ts). Clicking it picks another test event.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FunctionConfigError, locateFunction } from './functionConfig';
import { onDidChangeServerState, serverState, ServerState } from './server';
import { readSettings } from './settings';
import { onDidChangeTestEvent, selectedEvent } from './testEvents';

/** Creates the item and keeps it up to date; call once on activation. */
export function initStatusBar(context: vscode.ExtensionContext): void {
  const item = vscode.window.createStatusBarItem('functiongraph.status', vscode.StatusBarAlignment.Left, 50);
  item.name = 'FunctionGraph';
  const update = (): void => refresh(item);
  const watcher = vscode.workspace.createFileSystemWatcher('**/{fglocal.json,events/*.json}');
  context.subscriptions.push(
    item,
    watcher,
    watcher.onDidCreate(update),
    watcher.onDidDelete(update),
    watcher.onDidChange(update),
    vscode.window.onDidChangeActiveTextEditor(update),
    vscode.workspace.onDidChangeConfiguration((event) => event.affectsConfiguration('functiongraph') && update()),
    onDidChangeTestEvent(update),
    onDidChangeServerState(update),
  );
  update();
}

// Shown before the event name while the language server is not simply running.
const SERVER_ICONS: Record<ServerState, string> = {
  starting: '$(sync~spin) ',
  running: '',
  failed: '$(error) ',
  stopped: '',
};

function refresh(item: vscode.StatusBarItem): void {
  const document = vscode.window.activeTextEditor?.document;
  const folder = document ? vscode.workspace.getWorkspaceFolder(document.uri) : undefined;
  const relevant = document && folder && document.uri.scheme === 'file' && (document.languageId === 'python' || path.basename(document.uri.fsPath) === 'fglocal.json');
  if (!relevant) {
    item.hide();
    return;
  }
  try {
    const fn = locateFunction(document.uri.fsPath, folder.uri.fsPath, readSettings(document.uri));
    const event = selectedEvent(fn);
    const server = serverState();
    const eventName = event ? path.basename(event) : 'no test event';
    // The runtime and its interpreter have their own item (pythonStatus.ts).
    item.text = `${SERVER_ICONS[server]}$(symbol-event) ${eventName}`;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**FunctionGraph** — ${fn.handler}\n\n`);
    tooltip.appendMarkdown(`Test event: ${event ? path.relative(fn.functionDir, event) : 'none yet'}  \n`);
    tooltip.appendMarkdown(`Runtime: ${fn.runtime} (${fn.runtimeSource === 'config' ? 'fglocal.json' : fn.runtimeSource})  \n`);
    tooltip.appendMarkdown(`Language server: ${server}\n\n`);
    tooltip.appendMarkdown('Click to choose the test event.');
    item.tooltip = tooltip;
    item.accessibilityInformation = {
      label: `FunctionGraph: test event ${eventName}, runtime ${fn.runtime}, language server ${server}`,
    };
    item.command = 'functiongraph.selectTestEvent';
    item.backgroundColor = undefined;
  } catch (error) {
    if (!(error instanceof FunctionConfigError)) throw error;
    item.text = '$(warning) fglocal.json';
    item.tooltip = `${error.message}\nClick to open it.`;
    item.command = { title: 'Open Function Config', command: 'vscode.open', arguments: [vscode.Uri.file(error.file)] };
    item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
  }
  item.show();
}
