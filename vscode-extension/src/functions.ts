// Finds the function for an editor, a file or a CodeLens argument, applying the settings, and turns
// a broken function config into one actionable message.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FunctionConfigError, FunctionFolder, handlerForFile, isEntry, locateFunction } from './functionConfig';
import { log } from './log';
import { readSettings } from './settings';

/** What to run: a function folder and one of its entries. */
export interface Target {
  readonly fn: FunctionFolder;
  readonly handler: string;
  /** The initializer to run first, when a CodeLens names one. */
  readonly initializer: string | undefined;
  readonly workspaceFolder: vscode.WorkspaceFolder | undefined;
}

/** The argument the language server's CodeLens passes to functiongraph.runHandler / debugHandler. */
export interface CodeLensArgument {
  readonly uri?: string;
  readonly entry?: string;
  readonly initializer?: string | null;
  readonly codeDir?: string;
}

/** The function folder for `uri` (file or folder), or undefined after telling the user what is wrong. */
export function functionFor(uri: vscode.Uri): FunctionFolder | undefined {
  const workspaceFolder = vscode.workspace.getWorkspaceFolder(uri);
  const settings = readSettings(uri);
  try {
    return locateFunction(uri.fsPath, workspaceFolder?.uri.fsPath, settings);
  } catch (error) {
    if (error instanceof FunctionConfigError) {
      reportConfigError(error);
      return undefined;
    }
    throw error;
  }
}

/** Shows a broken function config with a button that opens it. */
export function reportConfigError(error: FunctionConfigError): void {
  log().error(error.message);
  void vscode.window.showErrorMessage(`FunctionGraph: ${error.message}`, 'Open fglocal.json').then((action) => {
    if (action) void vscode.window.showTextDocument(vscode.Uri.file(error.file));
  });
}

function isCodeLensArgument(value: unknown): value is CodeLensArgument {
  return typeof value === 'object' && value !== null && !(value instanceof vscode.Uri) && ('entry' in value || 'uri' in value);
}

/**
 * The handler to run for a command: the CodeLens argument when given, else the file passed by a
 * menu, else the active editor. Undefined after telling the user why there is none.
 */
export function resolveTarget(arg: unknown): Target | undefined {
  let uri: vscode.Uri | undefined;
  let entry: string | undefined;
  let initializer: string | undefined;
  if (isCodeLensArgument(arg)) {
    uri = arg.uri ? vscode.Uri.parse(arg.uri) : arg.codeDir ? vscode.Uri.file(arg.codeDir) : undefined;
    entry = arg.entry;
    initializer = typeof arg.initializer === 'string' && isEntry(arg.initializer) ? arg.initializer : undefined;
  } else if (arg instanceof vscode.Uri) {
    uri = arg;
  }
  const editor = vscode.window.activeTextEditor;
  uri ??= editor?.document.uri;
  if (uri === undefined || uri.scheme !== 'file') {
    void vscode.window.showWarningMessage('FunctionGraph: open the Python file of your handler first (e.g. index.py), then run this command again.');
    return undefined;
  }
  const fn = functionFor(uri);
  if (fn === undefined) return undefined;
  if (entry === undefined || !isEntry(entry)) {
    const document = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === uri?.toString());
    entry = uri.fsPath.endsWith('.py') && document ? handlerForFile(fn, uri.fsPath, document.getText()) : fn.handler;
  }
  return { fn, handler: entry, initializer, workspaceFolder: vscode.workspace.getWorkspaceFolder(uri) };
}

/** A short name for a path inside the function folder, for messages. */
export function shortPath(fn: FunctionFolder, file: string): string {
  const relative = path.relative(fn.functionDir, file);
  return relative.startsWith('..') ? file : relative;
}
