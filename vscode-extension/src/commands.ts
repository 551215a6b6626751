// The palette/menu commands: run a handler locally, debug it, manage test events, package the
// function, open its config. CodeLens "Run locally" / "Debug" call the first two.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { bundledPaths, toolEnvironment } from './bundle';
import { DEFAULT_HANDLER, DEFAULT_MEMORY_SIZE, DEFAULT_TIMEOUT } from './contract.generated';
import { CONFIG_FILE_NAME, DEFAULT_RUNTIME, FunctionFolder, isInside, launchConfiguration } from './functionConfig';
import { runFglocal } from './fglocalRun';
import { functionFor, resolveTarget, shortPath, Target } from './functions';
import { errorMessage, log } from './log';
import { resolveInterpreter } from './python';
import { runtimeServerLease } from './runtimeServerControl';
import { describePackage, formatBytes, parsePackageReport } from './packageReport';
import { parseResult } from './results';
import { showRunResult } from './resultView';
import { createTestEvent, ensureTestEvent, pickTestEvent, validateEventFile } from './testEvents';
import { lastErrorLine, lastJsonLine, runTool } from './tool';

/** The function folder for a command that takes a folder: the argument, the editor, or the workspace. */
export function functionForCommand(arg: unknown): FunctionFolder | undefined {
  const uri =
    arg instanceof vscode.Uri ? arg : (vscode.window.activeTextEditor?.document.uri ?? vscode.workspace.workspaceFolders?.[0]?.uri);
  if (uri === undefined || uri.scheme !== 'file') {
    void vscode.window.showWarningMessage('FunctionGraph: open a function folder first (File → Open Folder…).');
    return undefined;
  }
  return functionFor(uri);
}

export async function saveFunctionFiles(fn: FunctionFolder): Promise<void> {
  const dirty = vscode.workspace.textDocuments.filter((doc) => doc.isDirty && doc.uri.scheme === 'file' && isInside(doc.uri.fsPath, fn.functionDir));
  await Promise.all(dirty.map((doc) => doc.save()));
}

async function runHandler(paths: ReturnType<typeof bundledPaths>, arg: unknown): Promise<void> {
  const target = resolveTarget(arg);
  if (target === undefined) return;
  const event = await ensureTestEvent(target.fn);
  if (event === undefined || !(await validateEventFile(event))) return;
  const interpreter = await resolveInterpreter(vscode.Uri.file(target.fn.functionDir));
  if (interpreter === undefined) return;
  await saveFunctionFiles(target.fn);
  const args = ['invoke', target.handler, '--code-dir', target.fn.functionDir, '--event', event, '--json'];
  if (target.initializer !== undefined) args.push('--initializer', target.initializer);
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `FunctionGraph: running ${target.handler}…`, cancellable: true },
    async (_progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const lease = runtimeServerLease(); // fast cold starts while the runtime server is ready
      const options = {
        cwd: paths.tool, // never the function folder: `-m` puts the cwd first on sys.path
        env: { ...toolEnvironment(paths), ...lease.env },
        signal: abort.signal,
        onStderr: (text: string) => log().info(text.replace(/\n$/, '')),
      };
      const what = `Running ${target.handler} with ${shortPath(target.fn, event)}`;
      const run = await runFglocal(interpreter.executable, args, lease, options, log(), what).finally(() => lease.release());
      if (run.cancelled) {
        log().warn(`Run of ${target.handler} cancelled`);
        return;
      }
      reportRun(target, event, run.code, run.stdout, run.stderr);
    },
  );
}

function reportRun(target: Target, event: string, code: number | null, stdout: string, stderr: string): void {
  const result = parseResult(lastJsonLine(stdout));
  if (result === undefined) {
    const why = lastErrorLine(stderr) || `fglocal exited with code ${code}`;
    log().error(`Run of ${target.handler} failed: ${stderr.trim() || why}`);
    void vscode.window.showErrorMessage(`FunctionGraph: ${why}`, 'Show Output').then((action) => action && log().show());
    return;
  }
  showRunResult(result, `${target.handler} ← ${path.basename(event)}`, target.handler, vscode.Uri.file(target.fn.functionDir));
}

async function debugHandler(arg: unknown): Promise<void> {
  const target = resolveTarget(arg);
  if (target === undefined) return;
  const event = await ensureTestEvent(target.fn);
  if (event === undefined) return;
  await vscode.debug.startDebugging(target.workspaceFolder, launchConfiguration(target.fn, target.handler, event, target.initializer) as vscode.DebugConfiguration);
}

async function packageFunction(paths: ReturnType<typeof bundledPaths>, arg: unknown): Promise<void> {
  const fn = functionForCommand(arg);
  if (fn === undefined) return;
  const interpreter = await resolveInterpreter(vscode.Uri.file(fn.functionDir));
  if (interpreter === undefined) return;
  await saveFunctionFiles(fn);
  const args = ['-m', 'fglocal', 'package', '--code-dir', fn.functionDir, '--json'];
  log().info(`Packaging ${fn.functionDir}: ${interpreter.executable} ${args.join(' ')}`);
  const run = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'FunctionGraph: packaging…' },
    () => runTool(interpreter.executable, args, { cwd: paths.tool, env: toolEnvironment(paths) }),
  );
  const report = parsePackageReport(run.stdout);
  if (report === undefined || run.code !== 0) {
    for (const line of run.stderr.split(/\r?\n/)) if (line.trim()) log().error(line);
    const problems = report?.problems.length ? report.problems.join('; ') : lastErrorLine(run.stderr) || `fglocal package exited with code ${run.code}`;
    void vscode.window.showErrorMessage(`FunctionGraph: not packaged: ${problems}`, 'Show Output').then((action) => action && log().show());
    return;
  }
  for (const line of describePackage(report)) log().info(line);
  for (const warning of report.warnings) log().warn(warning);
  const summary = `${report.files} file${report.files === 1 ? '' : 's'}, ${formatBytes(report.zipSize)}`;
  const warned = report.warnings.length ? ` (${report.warnings.length} warning${report.warnings.length === 1 ? '' : 's'}, see the output)` : '';
  const action = await vscode.window.showInformationMessage(
    `FunctionGraph: packaged ${shortPath(fn, report.zip)} — ${summary}${warned}.`,
    'Reveal in Explorer',
    'Show Output',
  );
  if (action === 'Reveal in Explorer') void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(report.zip));
  if (action === 'Show Output') log().show();
}

async function openFunctionConfig(arg: unknown): Promise<void> {
  const uri = arg instanceof vscode.Uri ? arg : (vscode.window.activeTextEditor?.document.uri ?? vscode.workspace.workspaceFolders?.[0]?.uri);
  if (uri === undefined) {
    void vscode.window.showWarningMessage('FunctionGraph: open a function folder first (File → Open Folder…).');
    return;
  }
  let fn: FunctionFolder | undefined;
  try {
    fn = functionFor(uri);
  } catch (error) {
    log().error(errorMessage(error));
  }
  if (fn?.configFile) {
    await vscode.window.showTextDocument(vscode.Uri.file(fn.configFile));
    return;
  }
  const folder = fn?.functionDir ?? vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath;
  if (folder === undefined) return;
  const create = await vscode.window.showInformationMessage(
    `There is no ${CONFIG_FILE_NAME} in ${path.basename(folder)}: the defaults apply (handler ${DEFAULT_HANDLER}, runtime ${DEFAULT_RUNTIME}, ${DEFAULT_MEMORY_SIZE} MB, ${DEFAULT_TIMEOUT} s).`,
    `Create ${CONFIG_FILE_NAME}`,
  );
  if (!create) return;
  const file = path.join(folder, CONFIG_FILE_NAME);
  const config = { handler: fn?.handler ?? DEFAULT_HANDLER, runtime: fn?.runtime ?? DEFAULT_RUNTIME, memorySize: DEFAULT_MEMORY_SIZE, timeout: DEFAULT_TIMEOUT, userData: {} };
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { flag: 'wx' });
  await vscode.window.showTextDocument(vscode.Uri.file(file));
}

/** A command body that reports its failure (log and notification) instead of throwing at VS Code. */
export const guard =
  (name: string, body: (arg: unknown) => Promise<unknown>) =>
  async (arg: unknown): Promise<void> => {
    try {
      await body(arg);
    } catch (error) {
      log().error(`${name}: ${errorMessage(error)}`);
      void vscode.window.showErrorMessage(`FunctionGraph: ${name} failed: ${errorMessage(error)}`);
    }
  };

/** Registers every command. */
export function registerCommands(context: vscode.ExtensionContext): void {
  const paths = bundledPaths(context.extensionPath);
  context.subscriptions.push(
    vscode.commands.registerCommand('functiongraph.runHandler', guard('Run Handler Locally', (arg) => runHandler(paths, arg))),
    vscode.commands.registerCommand('functiongraph.debugHandler', guard('Debug Handler', debugHandler)),
    vscode.commands.registerCommand(
      'functiongraph.newTestEvent',
      guard('New Test Event', async (arg) => {
        const fn = functionForCommand(arg);
        return fn && createTestEvent(fn);
      }),
    ),
    vscode.commands.registerCommand(
      'functiongraph.selectTestEvent',
      guard('Select Test Event', async (arg) => {
        const fn = functionForCommand(arg);
        return fn && pickTestEvent(fn);
      }),
    ),
    vscode.commands.registerCommand('functiongraph.packageFunction', guard('Package Function', (arg) => packageFunction(paths, arg))),
    vscode.commands.registerCommand('functiongraph.openFunctionConfig', guard('Open Function Config', openFunctionConfig)),
  );
}
