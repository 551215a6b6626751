// Reads the `functiongraph.*` settings for a folder or file.
import * as vscode from 'vscode';
import { FunctionGraphSettings, settingsFrom } from './options';

/** The settings that apply to `scope` (a file or folder; the first workspace folder when omitted). */
export function readSettings(scope?: vscode.Uri): FunctionGraphSettings {
  const configuration = vscode.workspace.getConfiguration('functiongraph', scope ?? vscode.workspace.workspaceFolders?.[0]?.uri);
  return settingsFrom((key) => configuration.get(key));
}
