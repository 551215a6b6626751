// The cloud commands: deploy, invoke in the cloud, pull/push test events, set / clear credentials, and
// compare a local run with a cloud run. Each runs the bundled `fglocal` with the credentials from
// SecretStorage passed by environment (never written to settings, arguments or logs).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { bundledPaths, BundledPaths, toolEnvironment } from './bundle';
import { clearedMessage, cloudEnvironment, cloudErrorText, CloudCredentials, conflictMessage, deployLog, describeDeploy, describeSync, listFields, overwriteLabel, parseCredentials, parseDeployReport, parseSyncReport, notFound, redact, refusedCredentials, storedCredentialFields } from './cloudReports';
import { functionForCommand, guard, saveFunctionFiles } from './commands';
import { runFglocal } from './fglocalRun';
import { FunctionFolder } from './functionConfig';
import { log } from './log';
import { resolveInterpreter } from './python';
import { runtimeServerLease } from './runtimeServerControl';
import { InvocationResult, parseResult } from './results';
import { showComparison, showRunResult } from './resultView';
import { ensureTestEvent, keepSelectedEvent, validateEventFile } from './testEvents';
import { lastErrorLine, lastJsonLine, runTool, ToolRun } from './tool';

const SECRET_KEY = 'functiongraph.cloudCredentials';

async function credentials(context: vscode.ExtensionContext): Promise<CloudCredentials | undefined> {
  return parseCredentials(await context.secrets.get(SECRET_KEY));
}

async function setCredentials(context: vscode.ExtensionContext): Promise<void> {
  const ask = (prompt: string, password: boolean, optional = false): Thenable<string | undefined> =>
    vscode.window.showInputBox({ prompt, password, ignoreFocusOut: true, validateInput: (v) => (optional || v.trim() ? undefined : 'required') });
  const accessKey = await ask('Huawei Cloud access key ID (AK)', false);
  if (accessKey === undefined) return;
  const secretKey = await ask('Secret access key (SK)', true);
  if (secretKey === undefined) return;
  const securityToken = await ask('Security token (only for temporary credentials; leave empty otherwise)', true, true);
  if (securityToken === undefined) return;
  const projectId = await ask('Project ID of the region (leave empty to use fglocal.json "projectId")', false, true);
  if (projectId === undefined) return;
  const stored: CloudCredentials = { accessKey: accessKey.trim(), secretKey: secretKey.trim(), securityToken: securityToken.trim(), projectId: projectId.trim() };
  await context.secrets.store(SECRET_KEY, JSON.stringify(stored));
  void vscode.window.showInformationMessage('FunctionGraph: credentials stored in VS Code\'s secret storage.');
}

/** Removes the stored credentials after a confirmation, saying what was removed (never a value). */
async function clearCredentials(context: vscode.ExtensionContext): Promise<void> {
  const fields = storedCredentialFields(await context.secrets.get(SECRET_KEY));
  if (fields === undefined) {
    void vscode.window.showInformationMessage('FunctionGraph: no credentials are stored in VS Code\'s secret storage; nothing to remove.');
    return;
  }
  const clear = 'Clear Credentials';
  const choice = await vscode.window.showWarningMessage(
    'Remove the Huawei Cloud credentials stored for FunctionGraph?',
    { modal: true, detail: `This removes ${listFields(fields)} from VS Code's secret storage. Deployed functions are not changed.` },
    clear,
  );
  if (choice !== clear) return;
  await context.secrets.delete(SECRET_KEY);
  log().info('Clear Credentials: the stored credentials were removed from the secret storage');
  void vscode.window.showInformationMessage(clearedMessage(fields));
}

async function runCloud(context: vscode.ExtensionContext, paths: BundledPaths, fn: FunctionFolder, args: string[], title: string): Promise<ToolRun | undefined> {
  const interpreter = await resolveInterpreter(vscode.Uri.file(fn.functionDir));
  if (interpreter === undefined) return undefined;
  await saveFunctionFiles(fn);
  const env = cloudEnvironment(toolEnvironment(paths), await credentials(context));
  log().info(`${title}: ${interpreter.executable} -m fglocal ${args.join(' ')}`);
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `FunctionGraph: ${title}…`, cancellable: true }, (_progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    return runTool(interpreter.executable, ['-m', 'fglocal', ...args], { cwd: paths.tool, env, signal: abort.signal });
  });
}

const SET_CREDENTIALS = 'Set Credentials';
const DEPLOY = 'Deploy Function';

/**
 * Reports a failed cloud command (the platform's error, what was done, what to do), credentials
 * redacted. When the API refused the credentials, or none are stored, the message offers Set
 * Credentials; when the function is not found (404), a command other than Deploy offers Deploy Function.
 */
async function fail(context: vscode.ExtensionContext, paths: BundledPaths, fn: FunctionFolder, what: string, run: ToolRun): Promise<void> {
  const stored = await credentials(context);
  const text = redact(cloudErrorText(run.stdout, run.stderr), stored);
  log().error(`${what}: ${text}`);
  const actions = [
    ...(refusedCredentials(run.stdout) || stored === undefined ? [SET_CREDENTIALS] : []),
    ...(notFound(run.stdout) && what !== DEPLOY ? [DEPLOY] : []),
    'Show Output',
  ];
  const action = await vscode.window.showErrorMessage(`FunctionGraph: ${what} failed: ${text}`, ...actions);
  if (action === 'Show Output') log().show();
  if (action === SET_CREDENTIALS) await setCredentials(context);
  if (action === DEPLOY) await deployFunction(context, paths, fn);
}

async function deploy(context: vscode.ExtensionContext, paths: BundledPaths, arg: unknown): Promise<void> {
  const fn = functionForCommand(arg);
  if (fn !== undefined) await deployFunction(context, paths, fn);
}

async function deployFunction(context: vscode.ExtensionContext, paths: BundledPaths, fn: FunctionFolder): Promise<void> {
  const run = await runCloud(context, paths, fn, ['deploy', '--code-dir', fn.functionDir, '--json'], 'deploying');
  if (run === undefined || run.cancelled) return;
  const report = parseDeployReport(run.stdout);
  if (run.code !== 0 || report === undefined || report.error) {
    await fail(context, paths, fn, DEPLOY, run);
    return;
  }
  for (const { level, text } of deployLog(report)) log()[level](text);
  const actions = report.warnings.length ? ['Show Output'] : [];
  void vscode.window.showInformationMessage(`FunctionGraph: deployed ${describeDeploy(report)}`, ...actions).then((action) => action && log().show());
}

async function cloudResult(context: vscode.ExtensionContext, paths: BundledPaths, fn: FunctionFolder, event: string): Promise<InvocationResult | undefined> {
  const run = await runCloud(context, paths, fn, ['invoke', '--cloud', '--code-dir', fn.functionDir, '--event', event, '--json'], 'invoking in the cloud');
  if (run === undefined || run.cancelled) return undefined;
  const result = parseResult(lastJsonLine(run.stdout));
  if (result === undefined) await fail(context, paths, fn, 'Invoke in the Cloud', run);
  return result;
}

async function invokeCloud(context: vscode.ExtensionContext, paths: BundledPaths, arg: unknown): Promise<void> {
  const fn = functionForCommand(arg);
  if (fn === undefined) return;
  const event = await ensureTestEvent(fn);
  if (event === undefined || !(await validateEventFile(event))) return;
  const result = await cloudResult(context, paths, fn, event);
  // A function error in the cloud is presented as a local one: the same view, the same warning.
  if (result !== undefined) showRunResult(result, `cloud: ${path.basename(fn.functionDir)} ← ${path.basename(event)}`, `${fn.handler} in the cloud`, vscode.Uri.file(fn.functionDir));
}

/** The local half of a comparison: `fglocal invoke` with the function's configured handler. */
async function localResult(paths: BundledPaths, fn: FunctionFolder, event: string): Promise<InvocationResult | undefined> {
  const interpreter = await resolveInterpreter(vscode.Uri.file(fn.functionDir));
  if (interpreter === undefined) return undefined;
  await saveFunctionFiles(fn);
  const args = ['invoke', '--code-dir', fn.functionDir, '--event', event, '--json'];
  const run = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'FunctionGraph: running locally…', cancellable: true }, (_progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    const lease = runtimeServerLease(); // fast cold starts while the runtime server is ready
    const options = { cwd: paths.tool, env: { ...toolEnvironment(paths), ...lease.env }, signal: abort.signal };
    return runFglocal(interpreter.executable, args, lease, options, log(), 'running locally').finally(() => lease.release());
  });
  if (run.cancelled) return undefined;
  const result = parseResult(lastJsonLine(run.stdout));
  if (result === undefined) {
    const why = lastErrorLine(run.stderr) || `fglocal exited with code ${run.code}`;
    log().error(`Local run failed: ${run.stderr.trim() || why}`);
    void vscode.window.showErrorMessage(`FunctionGraph: Compare Local and Cloud Result: the local run failed: ${why}`, 'Show Output').then((action) => action && log().show());
  }
  return result;
}

async function compare(context: vscode.ExtensionContext, paths: BundledPaths, arg: unknown): Promise<void> {
  const fn = functionForCommand(arg);
  if (fn === undefined) return;
  const event = await ensureTestEvent(fn);
  if (event === undefined || !(await validateEventFile(event))) return;
  const local = await localResult(paths, fn, event);
  if (local === undefined) return;
  const cloud = await cloudResult(context, paths, fn, event);
  if (cloud !== undefined) showComparison(local, cloud, `${path.basename(fn.functionDir)} ← ${path.basename(event)}`);
}

async function syncEvents(context: vscode.ExtensionContext, paths: BundledPaths, action: 'pull' | 'push', arg: unknown): Promise<void> {
  const fn = functionForCommand(arg);
  if (fn !== undefined) await sync(context, paths, action, fn, false);
}

/** `fglocal events pull|push` for `fn`; a conflict is shown, and overwritten only when the user says so. */
async function sync(context: vscode.ExtensionContext, paths: BundledPaths, action: 'pull' | 'push', fn: FunctionFolder, force: boolean): Promise<void> {
  // A pull may add event files: the event in use (perhaps the only file so far) stays the one in use.
  if (action === 'pull') await keepSelectedEvent(fn);
  const args = ['events', action, '--code-dir', fn.functionDir, '--json', ...(force ? ['--force'] : [])];
  const run = await runCloud(context, paths, fn, args, `${action === 'pull' ? 'pulling' : 'pushing'} test events${force ? ' (overwriting)' : ''}`);
  if (run === undefined || run.cancelled) return;
  const command = action === 'pull' ? 'Pull Test Events' : 'Push Test Events';
  const report = parseSyncReport(run.stdout);
  if (report === undefined || report.error) {
    await fail(context, paths, fn, command, run);
    return;
  }
  for (const { name, action: done } of report.events) log().info(`  ${name}: ${done}`);
  if (report.conflicts.length) {
    const message = conflictMessage(report, action);
    log().warn(`${command}: ${message}`);
    const overwrite = overwriteLabel(action);
    const choice = await vscode.window.showWarningMessage(`FunctionGraph: ${command}: ${message}`, overwrite, 'Show Output');
    if (choice === 'Show Output') log().show();
    if (choice === overwrite) await sync(context, paths, action, fn, true);
    return;
  }
  const summary = describeSync(report, action);
  log().info(`${command}: ${summary}`);
  void vscode.window.showInformationMessage(`FunctionGraph: ${action === 'pull' ? 'pulled from' : 'pushed to'} the console: ${summary}.`);
}

/** Registers the cloud commands. */
export function registerCloudCommands(context: vscode.ExtensionContext): void {
  const paths = bundledPaths(context.extensionPath);
  context.subscriptions.push(
    vscode.commands.registerCommand('functiongraph.deployFunction', guard('Deploy Function', (arg) => deploy(context, paths, arg))),
    vscode.commands.registerCommand('functiongraph.invokeCloud', guard('Invoke in the Cloud', (arg) => invokeCloud(context, paths, arg))),
    vscode.commands.registerCommand('functiongraph.pullTestEvents', guard('Pull Test Events', (arg) => syncEvents(context, paths, 'pull', arg))),
    vscode.commands.registerCommand('functiongraph.pushTestEvents', guard('Push Test Events', (arg) => syncEvents(context, paths, 'push', arg))),
    vscode.commands.registerCommand('functiongraph.setCredentials', guard('Set Credentials', () => setCredentials(context))),
    vscode.commands.registerCommand('functiongraph.clearCredentials', guard('Clear Credentials', () => clearCredentials(context))),
    vscode.commands.registerCommand('functiongraph.compareLocalCloud', guard('Compare Local and Cloud Result', (arg) => compare(context, paths, arg))),
  );
}
