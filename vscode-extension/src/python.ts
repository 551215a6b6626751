// Finds the interpreter for a workspace folder (setting → Python extension → python3) and tells the
// user once, with the fix, when there is none that can run the tools.
import * as vscode from 'vscode';
import { chooseInterpreter, describeProblem, InterpreterChoice, InterpreterInfo, probeInterpreter } from './interpreter';
import { log } from './log';

const PYTHON_EXTENSION_ID = 'ms-python.python';

// The parts of the Python extension's API we use: the newer `environments` API first, the older
// `settings.getExecutionDetails` (still exported) as a fallback.
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath?(resource?: vscode.Uri): { path: string } | undefined;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
  settings?: {
    getExecutionDetails?(resource?: vscode.Uri): { execCommand: string[] | undefined };
    onDidChangeExecutionDetails?: vscode.Event<vscode.Uri | undefined>;
  };
}

const probed = new Map<string, Promise<InterpreterInfo | undefined>>();
const announced = new Set<string>();
const changed = new vscode.EventEmitter<void>();

/** Fires when the interpreter may have changed (setting or Python extension selection). */
export const onDidChangeInterpreter = changed.event;

async function pythonExtensionCommand(resource?: vscode.Uri): Promise<string[] | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
  if (extension === undefined) return undefined;
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const active = api?.environments?.getActiveEnvironmentPath?.(resource)?.path;
    if (active) return [active];
    return api?.settings?.getExecutionDetails?.(resource).execCommand;
  } catch (error) {
    log().warn(`The Python extension did not give an interpreter: ${String(error)}`);
    return undefined;
  }
}

/** Watches the setting and the Python extension's selection; call once on activation. */
export async function watchInterpreter(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    changed,
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('functiongraph.python')) {
        probed.clear();
        changed.fire();
      }
    }),
  );
  const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
  if (extension === undefined) return;
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    for (const event of [api?.environments?.onDidChangeActiveEnvironmentPath, api?.settings?.onDidChangeExecutionDetails]) {
      if (event === undefined) continue;
      context.subscriptions.push(
        event(() => {
          probed.clear();
          changed.fire();
        }),
      );
      break; // both fire for one change; one restart is enough
    }
  } catch (error) {
    log().warn(`Cannot watch the Python extension's interpreter: ${String(error)}`);
  }
}

/** The interpreter choice for `resource`, without running it. */
export async function interpreterChoice(resource?: vscode.Uri): Promise<InterpreterChoice> {
  const folder = resource ? vscode.workspace.getWorkspaceFolder(resource) : vscode.workspace.workspaceFolders?.[0];
  const setting = vscode.workspace.getConfiguration('functiongraph', resource ?? folder?.uri).get<string>('python');
  const fromExtension = setting ? undefined : await pythonExtensionCommand(resource ?? folder?.uri);
  return chooseInterpreter(setting, fromExtension, folder?.uri.fsPath);
}

/**
 * A checked interpreter for `resource`, or undefined after telling the user (once per problem)
 * what is wrong and how to fix it.
 */
export async function resolveInterpreter(resource?: vscode.Uri): Promise<InterpreterInfo | undefined> {
  const choice = await interpreterChoice(resource);
  const key = choice.command.join('\0');
  let pending = probed.get(key);
  if (pending === undefined) {
    pending = probeInterpreter(choice.command).then((result) => {
      if (result.ok) {
        log().info(`Python ${result.info.version.join('.')} at ${result.info.executable} (from ${choice.source})`);
        return result.info;
      }
      const message = describeProblem(choice, result);
      log().error(message);
      if (!announced.has(message)) {
        announced.add(message);
        void vscode.window.showErrorMessage(message, 'Open Settings').then((action) => {
          if (action === 'Open Settings') {
            void vscode.commands.executeCommand('workbench.action.openSettings', 'functiongraph.python');
          }
        });
      }
      probed.delete(key); // look again next time: the user may install Python without touching settings
      return undefined;
    });
    probed.set(key, pending);
  }
  return pending;
}
