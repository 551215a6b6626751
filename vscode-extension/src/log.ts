// The "FunctionGraph" log channel shared by every part of the extension.
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

/** The extension's LogOutputChannel, created on first use. */
export function log(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('FunctionGraph', { log: true });
  return channel;
}

/** An error's message, whatever was thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
