// The `functiongraph` debug type: F5 without a launch.json, filling in launch configurations, starting
// the bundled adapter (`python -m debug_adapter`) and showing the result event it sends.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { bundledPaths, toolEnvironment } from './bundle';
import { isEmptyLaunch, launchConfiguration } from './functionConfig';
import { functionFor, resolveTarget } from './functions';
import { errorMessage, log } from './log';
import { resolveInterpreter } from './python';
import { runtimeServerLease } from './runtimeServerControl';
import { Lease } from './runtimeServer';
import { parseResult } from './results';
import { showResult } from './resultView';
import { ensureTestEvent, validateEventFile } from './testEvents';

export const DEBUG_TYPE = 'functiongraph';
export const RESULT_EVENT = 'functiongraph/result';

class ConfigurationProvider implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): vscode.DebugConfiguration[] {
    const uri = vscode.window.activeTextEditor?.document.uri ?? folder?.uri;
    const fn = uri ? functionFor(uri) : undefined;
    if (fn === undefined) return [];
    const relative = (file: string): string => '${workspaceFolder}/' + path.relative(folder?.uri.fsPath ?? fn.functionDir, file).split(path.sep).join('/');
    const config = launchConfiguration(fn, fn.handler, undefined);
    config.codeUri = folder ? relative(fn.functionDir).replace(/\/$/, '') : fn.functionDir;
    config.eventFile = relative(path.join(fn.functionDir, 'events', 'event.json'));
    return [config as vscode.DebugConfiguration];
  }

  async resolveDebugConfiguration(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): Promise<vscode.DebugConfiguration | undefined> {
    if (isEmptyLaunch(config)) {
      // F5 with no launch.json: debug the handler of the active Python file with the selected event.
      const editor = vscode.window.activeTextEditor;
      if (editor?.document.languageId !== 'python') {
        void vscode.window.showInformationMessage('FunctionGraph: open your handler\'s Python file and press F5 again, or create a launch.json.');
        return undefined;
      }
      const target = resolveTarget(editor.document.uri);
      if (target === undefined) return undefined;
      const event = await ensureTestEvent(target.fn);
      if (event === undefined) return undefined;
      // Keep what VS Code put in (noDebug for Ctrl+F5).
      return { ...config, ...launchConfiguration(target.fn, target.handler, event) } as vscode.DebugConfiguration;
    }
    if (config.request !== 'launch') return config;
    const hasEvent = config.event !== undefined || typeof config.eventFile === 'string';
    if (!hasEvent || config.codeUri === undefined) {
      const uri = typeof config.codeUri === 'string' && !config.codeUri.includes('${') ? vscode.Uri.file(config.codeUri) : vscode.window.activeTextEditor?.document.uri ?? _folder?.uri;
      const fn = uri ? functionFor(uri) : undefined;
      if (fn === undefined) return uri ? undefined : config;
      config.codeUri ??= fn.functionDir;
      if (!hasEvent) {
        const event = await ensureTestEvent(fn);
        if (event === undefined) return undefined;
        config.eventFile = event;
      }
    }
    return config;
  }

  async resolveDebugConfigurationWithSubstitutedVariables(
    folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): Promise<vscode.DebugConfiguration | undefined> {
    if (typeof config.eventFile === 'string') {
      const file = path.resolve(typeof config.codeUri === 'string' ? config.codeUri : folder?.uri.fsPath ?? '', config.eventFile);
      if (!fs.existsSync(file)) {
        const action = await vscode.window.showErrorMessage(
          `FunctionGraph: the test event file ${config.eventFile} does not exist.`,
          'New Test Event…',
        );
        if (action) void vscode.commands.executeCommand('functiongraph.newTestEvent');
        return undefined;
      }
      if (!(await validateEventFile(file))) return undefined;
    }
    // The adapter needs a working interpreter; without one the user has already been told why.
    if ((await resolveInterpreter(folder?.uri)) === undefined) return undefined;
    return config;
  }
}

class AdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  /** Runtime server uses of sessions still running, released when they end. */
  readonly leases = new Map<string, Lease>();

  constructor(private readonly extensionPath: string) {}

  async createDebugAdapterDescriptor(session: vscode.DebugSession): Promise<vscode.DebugAdapterDescriptor> {
    const interpreter = await resolveInterpreter(session.workspaceFolder?.uri);
    if (interpreter === undefined) throw new Error('FunctionGraph: no usable Python interpreter (see the notification).');
    const paths = bundledPaths(this.extensionPath);
    // Only a run without the debugger uses the runtime server (its instances are forked by it); a
    // debugged fglocal and its instances start as before, so that debugpy follows them.
    const lease = session.configuration.noDebug === true ? runtimeServerLease() : undefined;
    if (lease !== undefined) this.leases.set(session.id, lease);
    const fast = lease !== undefined && Object.keys(lease.env).length > 0 ? ' (without the debugger: instances forked by the runtime server)' : '';
    log().info(`Starting the debug adapter with ${interpreter.executable}${fast}`);
    // cwd = our own folder, so a user's module named `debug_adapter` can never take the place of ours.
    return new vscode.DebugAdapterExecutable(interpreter.executable, ['-m', 'debug_adapter'], {
      cwd: paths.tool,
      env: { ...toolEnvironment(paths), ...lease?.env },
    });
  }
}

function onCustomEvent(event: vscode.DebugSessionCustomEvent): void {
  if (event.session.type !== DEBUG_TYPE || event.event !== RESULT_EVENT) return;
  const result = parseResult(event.body);
  if (result === undefined) {
    log().warn(`Unreadable ${RESULT_EVENT} event: ${JSON.stringify(event.body).slice(0, 500)}`);
    return;
  }
  try {
    showResult(result, event.session.name, 'debug', event.session.workspaceFolder?.uri);
  } catch (error) {
    log().error(`Showing the result: ${errorMessage(error)}`);
  }
}

/** Registers the debug type's provider, adapter factory and result listener. */
export function registerDebugging(context: vscode.ExtensionContext): void {
  const provider = new ConfigurationProvider();
  const factory = new AdapterFactory(context.extensionPath);
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, provider, vscode.DebugConfigurationProviderTriggerKind.Initial),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, factory),
    vscode.debug.onDidTerminateDebugSession((session) => {
      factory.leases.get(session.id)?.release();
      factory.leases.delete(session.id);
    }),
    vscode.debug.onDidReceiveDebugSessionCustomEvent(onCustomEvent),
  );
}
