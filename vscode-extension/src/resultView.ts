// Shows an invocation's result: always in the "FunctionGraph" output channel, and in a result view
// (return, summary table, logs) when the `functiongraph.resultView` setting asks for it.
import * as vscode from 'vscode';
import { log } from './log';
import { formatResult, InvocationResult, resultHtml } from './results';
import { readSettings } from './settings';

let panel: vscode.WebviewPanel | undefined;

/** Presents `result`; `origin` says whether it came from a local run or a debug session. */
export function showResult(result: InvocationResult, title: string, origin: 'run' | 'debug', scope?: vscode.Uri): void {
  const channel = log();
  for (const line of formatResult(result, title)) {
    if (result.error) channel.error(line);
    else channel.info(line);
  }
  const mode = readSettings(scope).resultView;
  if (mode === 'never' || (mode === 'run' && origin === 'debug')) return;
  panel ??= createPanel();
  panel.title = `Result: ${title}`;
  panel.webview.html = resultHtml(result, title, panel.webview.cspSource);
  panel.reveal(vscode.ViewColumn.Beside, true);
}

function createPanel(): vscode.WebviewPanel {
  const created = vscode.window.createWebviewPanel(
    'functiongraph.result',
    'FunctionGraph Result',
    { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
    { enableScripts: false, localResourceRoots: [] },
  );
  created.onDidDispose(() => (panel = undefined));
  return created;
}

const comparePanels = new Map<string, vscode.WebviewPanel>();

/** The same event run locally and in the cloud: the two results side by side (two result views). */
export function showComparison(local: InvocationResult, cloud: InvocationResult, title: string): void {
  for (const [side, result, column] of [
    ['Local', local, vscode.ViewColumn.Two],
    ['Cloud', cloud, vscode.ViewColumn.Three],
  ] as const) {
    const label = `${side}: ${title}`;
    for (const line of formatResult(result, label)) log().info(line);
    let shown = comparePanels.get(side);
    if (shown === undefined) {
      shown = vscode.window.createWebviewPanel('functiongraph.compare', label, { viewColumn: column, preserveFocus: true }, { enableScripts: false, localResourceRoots: [] });
      shown.onDidDispose(() => comparePanels.delete(side));
      comparePanels.set(side, shown);
    }
    shown.title = label;
    shown.webview.html = resultHtml(result, label, shown.webview.cspSource);
    shown.reveal(column, true);
  }
}
