// The selected test event of each function folder: choosing one, creating one from the trigger
// templates of `fglocal event`, and checking it is valid JSON before anything runs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { bundledPaths, toolEnvironment } from './bundle';
import { checkEventText, EVENTS_DIR, listEventFiles, newEventFile, parseTriggerList, TriggerTemplate } from './events';
import { FunctionFolder } from './functionConfig';
import { errorMessage, log } from './log';
import { resolveInterpreter } from './python';
import { lastErrorLine, runTool } from './tool';

const STATE_KEY = 'functiongraph.selectedEvents';
const changed = new vscode.EventEmitter<void>();
let context: vscode.ExtensionContext;

/** Fires when a function's selected test event changes. */
export const onDidChangeTestEvent = changed.event;

/** Call once on activation. */
export function initTestEvents(extensionContext: vscode.ExtensionContext): void {
  context = extensionContext;
  context.subscriptions.push(changed);
}

function selections(): Record<string, string> {
  return context.workspaceState.get<Record<string, string>>(STATE_KEY, {});
}

/** The selected event file of `fn`, if it still exists; else the only event file, if there is one. */
export function selectedEvent(fn: FunctionFolder): string | undefined {
  const chosen = selections()[fn.functionDir];
  if (chosen !== undefined && fs.existsSync(chosen)) return chosen;
  const files = listEventFiles(fn.functionDir);
  return files.length === 1 ? files[0] : undefined;
}

/** The selected event file of every function folder that has one (for the language server). */
export function selectedEventFiles(): Record<string, string> {
  if (context === undefined) return {};
  const chosen: Record<string, string> = {};
  for (const [functionDir, file] of Object.entries(selections())) {
    if (fs.existsSync(file)) chosen[functionDir] = file;
  }
  return chosen;
}

async function select(fn: FunctionFolder, file: string): Promise<void> {
  await context.workspaceState.update(STATE_KEY, { ...selections(), [fn.functionDir]: file });
  changed.fire();
}

const CREATE = '$(add) New test event…';

/** Lets the user pick (or create) the test event of `fn`; undefined when cancelled. */
export async function pickTestEvent(fn: FunctionFolder): Promise<string | undefined> {
  const files = listEventFiles(fn.functionDir);
  const current = selectedEvent(fn);
  const items: vscode.QuickPickItem[] = files.map((file) => ({
    label: path.basename(file),
    description: file === current ? 'selected' : undefined,
    detail: path.relative(fn.functionDir, file),
  }));
  items.push({ label: CREATE, detail: `From a trigger template (APIG, OBS, timer, …), saved in ${EVENTS_DIR}/` });
  const picked = await vscode.window.showQuickPick(items, {
    title: 'FunctionGraph: test event',
    placeHolder: files.length ? 'Event passed to the handler' : `No test events in ${EVENTS_DIR}/ yet`,
  });
  if (picked === undefined) return undefined;
  if (picked.label === CREATE) return createTestEvent(fn);
  const file = path.join(fn.functionDir, picked.detail ?? picked.label);
  await select(fn, file);
  return file;
}

/** The event to run `fn` with: the selected one, else asks the user (who may create one). */
export async function ensureTestEvent(fn: FunctionFolder): Promise<string | undefined> {
  return selectedEvent(fn) ?? pickTestEvent(fn);
}

async function triggerTemplates(python: string): Promise<TriggerTemplate[]> {
  const paths = bundledPaths(context.extensionPath);
  try {
    const run = await runTool(python, ['-m', 'fglocal', 'event', 'list'], { cwd: paths.tool, env: toolEnvironment(paths) });
    if (run.code === 0) {
      const templates = parseTriggerList(run.stdout);
      if (templates.length > 0) return templates;
    }
    log().warn(`fglocal event list gave no templates: ${lastErrorLine(run.stderr)}`);
  } catch (error) {
    log().warn(`fglocal event list: ${errorMessage(error)}`);
  }
  return [];
}

/** Creates a test event from a trigger template (`fglocal event new`), opens and selects it. */
export async function createTestEvent(fn: FunctionFolder): Promise<string | undefined> {
  const interpreter = await resolveInterpreter(vscode.Uri.file(fn.functionDir));
  if (interpreter === undefined) return undefined;
  const templates = await triggerTemplates(interpreter.executable);
  const blank: vscode.QuickPickItem = { label: 'blank', description: 'an empty JSON object to fill in' };
  const items: vscode.QuickPickItem[] = templates.length
    ? templates.map((template) => ({ label: template.name, description: template.description }))
    : [blank];
  const picked = await vscode.window.showQuickPick(items, { title: 'FunctionGraph: new test event', placeHolder: 'Trigger the event comes from' });
  if (picked === undefined) return undefined;
  const suggested = newEventFile(fn.functionDir, picked.label);
  const name = await vscode.window.showInputBox({
    title: 'FunctionGraph: new test event',
    prompt: `File name in ${EVENTS_DIR}/`,
    value: path.basename(suggested),
    validateInput: (value) =>
      /^[\w.-]+\.json$/.test(value) ? (fs.existsSync(path.join(fn.functionDir, EVENTS_DIR, value)) ? 'That file exists already' : undefined) : 'A file name ending in .json',
  });
  if (name === undefined) return undefined;
  const file = path.join(fn.functionDir, EVENTS_DIR, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (templates.length === 0) {
    fs.writeFileSync(file, '{\n  "key": "value"\n}\n');
  } else {
    const paths = bundledPaths(context.extensionPath);
    const run = await runTool(interpreter.executable, ['-m', 'fglocal', 'event', 'new', picked.label, '--out', file], {
      cwd: paths.tool, // never the function folder: `-m` puts the cwd first on sys.path
      env: toolEnvironment(paths),
    });
    if (run.code !== 0 || !fs.existsSync(file)) {
      const why = lastErrorLine(run.stderr) || `exit code ${run.code}`;
      void vscode.window.showErrorMessage(`FunctionGraph: could not create the ${picked.label} event: ${why}`);
      return undefined;
    }
  }
  await select(fn, file);
  await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
  return file;
}

/** True when the event file can be used; otherwise tells the user what is wrong with it. */
export async function validateEventFile(file: string): Promise<boolean> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    void vscode.window.showErrorMessage(`FunctionGraph: cannot read the test event ${file}: ${errorMessage(error)}`);
    return false;
  }
  const check = checkEventText(text);
  if (check.ok) return true;
  const action = await vscode.window.showErrorMessage(`FunctionGraph: the test event ${path.basename(file)} is not valid JSON: ${check.message}`, 'Open Event');
  if (action) {
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(file));
    if (check.line !== undefined) {
      const position = new vscode.Position(check.line - 1, 0);
      editor.selection = new vscode.Selection(position, position);
      editor.revealRange(new vscode.Range(position, position));
    }
  }
  return false;
}

/**
 * Records the event `fn` runs with now as its selection, when it is only implied (the only file):
 * called before something adds event files (a pull), so the event in use stays the one in use.
 */
export async function keepSelectedEvent(fn: FunctionFolder): Promise<void> {
  const current = selectedEvent(fn);
  if (current !== undefined && selections()[fn.functionDir] !== current) await select(fn, current);
}
