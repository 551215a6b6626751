// Shows an invocation's result: always in the "FunctionGraph" output channel, and in a result view
// (return, summary table, logs) when the `functiongraph.resultView` setting asks for it.
import * as vscode from 'vscode';
import { log } from './log';
import { compareHtml, compareResults, formatResult, InvocationResult, resultHtml } from './results';
import { readSettings } from './settings';

let panel: vscode.WebviewPanel | undefined;

/** Presents `result` (a local run, a debug session's or a cloud run: one view for all); `origin` says whether it came from a run or a debug session. */
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

/**
 * A run's result (local or cloud): shown as `showResult` does, and when the function failed, the
 * warning that names `what` ran (a handler; "… in the cloud") with the error's type and message.
 */
export function showRunResult(result: InvocationResult, title: string, what: string, scope: vscode.Uri): void {
  showResult(result, title, 'run', scope);
  if (result.error) {
    const message = `FunctionGraph: ${what} failed: ${result.error.errorType}: ${result.error.errorMessage}`;
    void vscode.window.showWarningMessage(message, 'Show Output').then((action) => action && log().show());
  }
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

let comparePanel: vscode.WebviewPanel | undefined;

/** The same event run locally and in the cloud: what differs, and the two results side by side. */
export function showComparison(local: InvocationResult, cloud: InvocationResult, title: string): void {
  for (const line of formatResult(local, `Local: ${title}`)) log().info(line);
  for (const line of formatResult(cloud, `Cloud: ${title}`)) log().info(line);
  const differing = compareResults(local, cloud).filter((d) => !d.same);
  log().info(`Local and cloud ${differing.length ? `differ in: ${differing.map((d) => d.aspect).join(', ')}` : 'agree'}`);
  if (comparePanel === undefined) {
    const created = vscode.window.createWebviewPanel('functiongraph.compare', 'FunctionGraph Compare', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: false, localResourceRoots: [] });
    created.onDidDispose(() => (comparePanel = undefined));
    comparePanel = created;
  }
  comparePanel.title = `Compare: ${title}`;
  comparePanel.webview.html = compareHtml(local, cloud, `Local and cloud: ${title}`, comparePanel.webview.cspSource);
  comparePanel.reveal(vscode.ViewColumn.Beside, true);
}
