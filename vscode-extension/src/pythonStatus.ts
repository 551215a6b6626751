// The function's interpreter in the status bar (`python3.9 · 3.9.18`), the notification with the fix
// when its runtime's Python is missing, and the command that picks one for the function (stored as
// the local-only "python" field of fglocal.json). The resolution itself is fglocal's
// (`fglocal python --json`), the same that invoke, serve, package and the debugger use.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BundledPaths, toolEnvironment } from './bundle';
import { CONFIG_FILE_NAME, FunctionConfigError, FunctionFolder, locateFunction } from './functionConfig';
import {
  describeSource,
  functionPythonArgs,
  FunctionPythonResult,
  missingPythonMessage,
  parseFunctionPython,
  pythonStatusText,
  setPythonField,
} from './functionPython';
import { errorMessage, log } from './log';
import { onDidChangeInterpreter, resolveInterpreter } from './python';
import { fastStartsText } from './runtimeServer';
import { onDidChangeRuntimeServer, runtimeServerStatus } from './runtimeServerControl';
import { readSettings } from './settings';
import { runTool } from './tool';

export const SELECT_PYTHON_COMMAND = 'functiongraph.selectFunctionPython';

const results = new Map<string, Promise<FunctionPythonResult | undefined>>();
const announced = new Set<string>();
let sequence = 0;

/** Creates the status item and the pick command; call once on activation. */
export function initPythonStatus(context: vscode.ExtensionContext, paths: BundledPaths): void {
  const item = vscode.window.createStatusBarItem('functiongraph.python', vscode.StatusBarAlignment.Left, 49);
  item.name = 'FunctionGraph Python';
  const update = (): void => void refresh(item, paths);
  const forget = (): void => {
    results.clear();
    update();
  };
  const watcher = vscode.workspace.createFileSystemWatcher(`**/${CONFIG_FILE_NAME}`);
  context.subscriptions.push(
    item,
    watcher,
    watcher.onDidCreate(forget),
    watcher.onDidDelete(forget),
    watcher.onDidChange(forget),
    vscode.window.onDidChangeActiveTextEditor(update),
    vscode.workspace.onDidChangeConfiguration((event) => event.affectsConfiguration('functiongraph') && forget()),
    onDidChangeInterpreter(forget),
    onDidChangeRuntimeServer(update),
    vscode.commands.registerCommand(SELECT_PYTHON_COMMAND, (arg: unknown) => selectPython(paths, arg, item)),
  );
  update();
}

/** The function of the active editor, when it is one of ours (a Python file or fglocal.json). */
function activeFunction(): FunctionFolder | undefined {
  const document = vscode.window.activeTextEditor?.document;
  const folder = document ? vscode.workspace.getWorkspaceFolder(document.uri) : undefined;
  if (!document || !folder || document.uri.scheme !== 'file') return undefined;
  if (document.languageId !== 'python' && path.basename(document.uri.fsPath) !== CONFIG_FILE_NAME) return undefined;
  try {
    return locateFunction(document.uri.fsPath, folder.uri.fsPath, readSettings(document.uri));
  } catch (error) {
    if (error instanceof FunctionConfigError) return undefined; // the event item shows the config error
    throw error;
  }
}

/** `fglocal python` for `fn` (cached until fglocal.json, the settings or the tools' interpreter change). */
function query(paths: BundledPaths, fn: FunctionFolder): Promise<FunctionPythonResult | undefined> {
  const key = `${fn.functionDir}\0${fn.runtime}`;
  let pending = results.get(key);
  if (pending === undefined) {
    pending = (async () => {
      const tool = await resolveInterpreter(vscode.Uri.file(fn.functionDir));
      if (tool === undefined) return undefined; // already told: the tools' own interpreter is missing
      const args = functionPythonArgs(fn.functionDir);
      if (fn.runtimeSource === 'setting') args.push('--runtime', fn.runtime);
      const run = await runTool(tool.executable, args, { cwd: paths.tool, env: toolEnvironment(paths) });
      return parseFunctionPython(run.code, run.stdout, run.stderr);
    })().catch((error: unknown) => {
      log().error(`Cannot ask fglocal for the function's interpreter: ${errorMessage(error)}`);
      results.delete(key);
      return undefined;
    });
    results.set(key, pending);
  }
  return pending;
}

async function refresh(item: vscode.StatusBarItem, paths: BundledPaths): Promise<void> {
  const mine = ++sequence;
  const fn = activeFunction();
  if (fn === undefined) {
    item.hide();
    return;
  }
  item.command = SELECT_PYTHON_COMMAND;
  item.text = pythonStatusText(fn.runtime, undefined);
  item.tooltip = `Finding the Python for ${fn.runtime}…`;
  item.show();
  const result = await query(paths, fn);
  if (mine !== sequence) return; // the editor changed meanwhile
  render(item, fn, result);
}

function render(item: vscode.StatusBarItem, fn: FunctionFolder, result: FunctionPythonResult | undefined): void {
  if (result === undefined) {
    item.hide();
    return;
  }
  item.text = pythonStatusText(fn.runtime, result);
  const tooltip = new vscode.MarkdownString(undefined, true);
  if (result.ok) {
    const { python } = result;
    tooltip.appendMarkdown(`**${fn.runtime}** runs on Python ${python.version}\n\n`);
    tooltip.appendMarkdown(`\`${python.path}\` (${describeSource(python.source)})\n\n`);
    for (const warning of python.warnings) tooltip.appendMarkdown(`$(warning) ${warning}\n\n`);
    tooltip.appendText(`${fastStartsText(runtimeServerStatus(), fn.runtime)}\n\n`);
    tooltip.appendMarkdown('Click to pick another interpreter for this function.');
    item.backgroundColor = python.warnings.length > 0 ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    item.accessibilityInformation = { label: `FunctionGraph: ${fn.runtime} runs on Python ${python.version} at ${python.path}` };
  } else {
    tooltip.appendMarkdown(`**${fn.runtime}**: no interpreter\n\n${result.message}\n\nClick to pick one for this function.`);
    item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    item.accessibilityInformation = { label: `FunctionGraph: no Python interpreter for ${fn.runtime}` };
    announceMissing(fn, result.message);
  }
  item.tooltip = tooltip;
  item.show();
}

/** Tells the user once per function and refusal, with the fix one click away. */
function announceMissing(fn: FunctionFolder, refusal: string): void {
  const key = `${fn.functionDir}\0${refusal}`;
  if (announced.has(key)) return;
  announced.add(key);
  const message = missingPythonMessage(fn.runtime, path.basename(fn.functionDir), refusal);
  log().warn(message);
  void vscode.window.showWarningMessage(message, 'Pick Interpreter…', 'Open fglocal.json').then((action) => {
    if (action === 'Pick Interpreter…') void vscode.commands.executeCommand(SELECT_PYTHON_COMMAND);
    else if (action === 'Open fglocal.json' && fn.configFile) void vscode.window.showTextDocument(vscode.Uri.file(fn.configFile));
  });
}

interface PythonChoice extends vscode.QuickPickItem {
  readonly choice: 'browse' | 'enter' | 'automatic';
}

/** The command: pick the interpreter of the active (or given) function and store it in fglocal.json. */
async function selectPython(paths: BundledPaths, arg: unknown, item: vscode.StatusBarItem): Promise<void> {
  const fn = arg instanceof vscode.Uri ? locateFunction(arg.fsPath, vscode.workspace.getWorkspaceFolder(arg)?.uri.fsPath) : activeFunction();
  if (fn === undefined) {
    void vscode.window.showWarningMessage('FunctionGraph: open a file of a function (a Python file or its fglocal.json) first.');
    return;
  }
  const current = await query(paths, fn);
  const items: PythonChoice[] = [
    { label: '$(edit) Enter interpreter path…', choice: 'enter' },
    { label: '$(folder-opened) Browse…', choice: 'browse' },
    {
      label: '$(search) Find automatically',
      description: 'remove "python" from fglocal.json',
      detail: `fglocal finds a Python for ${fn.runtime}: FGLOCAL_PYTHON, then PATH, pyenv, uv, asdf, conda`,
      choice: 'automatic',
    },
  ];
  const now = current?.ok ? `now ${current.python.version} (${current.python.path}, ${describeSource(current.python.source)})` : 'none found now';
  const picked = await vscode.window.showQuickPick(items, {
    title: `Python interpreter for ${path.basename(fn.functionDir)} (${fn.runtime})`,
    placeHolder: `Stored in fglocal.json as "python" (local only, never packaged); ${now}`,
  });
  if (picked === undefined) return;
  let chosen: string | undefined;
  if (picked.choice === 'enter') {
    chosen = await vscode.window.showInputBox({
      title: `Python interpreter for ${fn.runtime}`,
      prompt: 'Path of the interpreter (or a command on PATH, e.g. python3.9)',
      value: current?.ok ? current.python.path : '',
      validateInput: (value) => (value.trim() === '' ? 'Enter a path' : undefined),
    });
    if (chosen === undefined) return;
    chosen = chosen.trim();
  } else if (picked.choice === 'browse') {
    const files = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use This Interpreter', title: `Python for ${fn.runtime}` });
    if (files === undefined || files.length === 0) return;
    chosen = files[0]?.fsPath;
  }
  const configFile = fn.configFile ?? path.join(fn.functionDir, CONFIG_FILE_NAME);
  try {
    const text = fs.existsSync(configFile) ? fs.readFileSync(configFile, 'utf8') : undefined;
    // Written whole, then renamed over the old one: fglocal, the language server and the file
    // watchers never read half a config.
    const temporary = `${configFile}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, setPythonField(text, chosen));
    fs.renameSync(temporary, configFile);
  } catch (error) {
    void vscode.window.showErrorMessage(`FunctionGraph: cannot store the interpreter in ${configFile}: ${errorMessage(error)}`);
    return;
  }
  log().info(chosen === undefined ? `Removed "python" from ${configFile}` : `Set "python" to ${chosen} in ${configFile}`);
  results.clear();
  // A refusal of the new choice is shown again even if the same refusal was shown before.
  for (const key of [...announced]) if (key.startsWith(`${fn.functionDir}\0`)) announced.delete(key);
  await refresh(item, paths);
}
