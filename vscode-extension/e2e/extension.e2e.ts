// The extension in a real VS Code (code-server) driven through headless Chromium, checked the way a
// user would see it. Run by `make test` (target ext-e2e) through e2e/run.sh, which provides:
//   FG_E2E_CODE_SERVER  the code-server binary      FG_E2E_VSIX   the .vsix under test
//   FG_E2E_OUTPUT       folder for screenshots and logs
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test, TestContext } from 'node:test';
import { Browser } from 'playwright-core';
import { CodeServer, copyTree, E2E_PYTHON, installExtension, launchBrowser, makeSandbox, openWorkbench, outputChannel, requiredEnv, Sandbox, startCodeServer, USER_SETTINGS } from './harness';
import { UI_TIMEOUT, Workbench } from './workbench';

const codeServerBin = requiredEnv('FG_E2E_CODE_SERVER');
const vsix = requiredEnv('FG_E2E_VSIX');
const output = requiredEnv('FG_E2E_OUTPUT');
const extensionRoot = path.resolve(__dirname, '..', '..');
const fixture = path.join(extensionRoot, 'e2e', 'fixture');
let installedExtension = '';

/** True when the installed extension bundles `relative` (under bundled/tool). */
function bundles(relative: string): boolean {
  return fs.existsSync(path.join(installedExtension, 'bundled', 'tool', relative));
}

/** A test that starts from a clean workbench and leaves a screenshot behind when it fails. */
function uiTest(name: string, body: (t: TestContext) => Promise<void>): void {
  test(name, async (t) => {
    await workbench.reset();
    try {
      await body(t);
    } catch (error) {
      await workbench.screenshot(`FAILED-${name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}`).catch(() => undefined);
      throw error;
    }
  });
}

let workbench: Workbench;

/** How often `text` occurs in the extension's FunctionGraph log (written by VS Code under user-data). */
function countInLog(text: string): number {
  return outputChannel(sandbox).split(text).length - 1;
}

/** Waits until `condition` holds: a file VS Code writes, checked whenever the event loop is free. */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + UI_TIMEOUT;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function skip(t: TestContext, reason: string): void {
  t.skip(reason);
}

let sandbox: Sandbox;

describe('FunctionGraph extension in code-server', () => {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workspace: string;

  before(async () => {
    fs.mkdirSync(output, { recursive: true });
    sandbox = makeSandbox(USER_SETTINGS);
    workspace = path.join(sandbox.root, 'hello-function');
    copyTree(fixture, workspace);
    const installed = await installExtension(codeServerBin, sandbox, vsix);
    fs.writeFileSync(path.join(output, 'install.log'), installed);
    const folder = fs.readdirSync(sandbox.extensions).find((name) => name.startsWith('fg-devkit.functiongraph-python'));
    assert.ok(folder, `the extension is not in ${sandbox.extensions}: ${installed}`);
    installedExtension = path.join(sandbox.extensions, folder);
    server = await startCodeServer(codeServerBin, sandbox, workspace, path.join(output, 'code-server.log'));
    browser = await launchBrowser();
    const page = await openWorkbench(browser, server.url, workspace);
    workbench = new Workbench(page, output);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    // Keep VS Code's own logs (extension host, language server output) next to the screenshots.
    const logs = path.join(sandbox.userData, 'logs');
    if (fs.existsSync(logs)) fs.cpSync(logs, path.join(output, 'vscode-logs'), { recursive: true });
    fs.rmSync(sandbox.root, { recursive: true, force: true });
  });

  uiTest('opening index.py activates the extension: the status bar shows the test event, the runtime and its interpreter', async () => {
    await workbench.openFile('index.py');
    const item = workbench.statusBarItem('hello.json');
    await item.waitFor({ timeout: UI_TIMEOUT });
    // The runtime's own interpreter, as fglocal resolves it (pyenv's 3.9 on the project's machines).
    const python = workbench.statusBarItem(/python3\.9 · 3\.9\.\d+/);
    await python.waitFor({ timeout: UI_TIMEOUT });
    await workbench.screenshot('activated-status-bar');
  });

  uiTest('a missing interpreter gives one notification with the fix; the pick command stores "python" in fglocal.json', async () => {
    const configFile = path.join(workspace, 'fglocal.json');
    const original = fs.readFileSync(configFile, 'utf8');
    // The config as it is on disk (undefined while it is not a whole JSON document).
    const config = (): Record<string, unknown> | undefined => {
      try {
        return JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    };
    try {
      fs.writeFileSync(configFile, JSON.stringify({ ...JSON.parse(original), python: '/no/such/python3.9' }, null, 2));
      await workbench.openFile('index.py');
      await workbench.statusBarItem(/python3\.9 · no interpreter/).waitFor({ timeout: UI_TIMEOUT });
      const toast = workbench.notifications.filter({ hasText: 'no Python for python3.9' });
      await toast.waitFor({ timeout: UI_TIMEOUT });
      const text = (await toast.textContent()) ?? '';
      assert.match(text, /\/no\/such\/python3\.9, which is not an executable Python interpreter/);
      assert.match(text, /Pick an interpreter for this function/);
      await workbench.screenshot('missing-interpreter-notification');
      await workbench.clearNotifications();
      // Enter a path: stored as the local-only "python" field (the runtime's own interpreter here).
      const found = fs
        .readdirSync(path.join(os.homedir(), '.pyenv', 'versions'), { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && /^3\.9\.\d+$/.test(entry.name))
        .map((entry) => path.join(os.homedir(), '.pyenv', 'versions', entry.name, 'bin', 'python3.9'))
        .find((candidate) => fs.existsSync(candidate));
      if (found !== undefined) {
        await workbench.runCommand('FunctionGraph: Select Python Interpreter for Function…');
        await workbench.pickQuickItem('Enter interpreter path', { thenCloses: false });
        const input = workbench.quickInput.locator('input');
        await input.fill(found);
        await input.press('Enter');
        await waitFor(() => config()?.python === found, '"python" in fglocal.json');
        await workbench.statusBarItem(/python3\.9 · 3\.9\.\d+/).waitFor({ timeout: UI_TIMEOUT });
      }
      // "Find automatically" removes the field again; everything else in the file stays.
      await workbench.runCommand('FunctionGraph: Select Python Interpreter for Function…');
      await workbench.pickQuickItem('Find automatically');
      await waitFor(() => config() !== undefined && !('python' in (config() ?? {})), '"python" removed from fglocal.json');
      assert.deepEqual(config(), JSON.parse(original));
      await workbench.statusBarItem(/python3\.9 · 3\.9\.\d+/).waitFor({ timeout: UI_TIMEOUT });
      await workbench.screenshot('interpreter-found-again');
    } finally {
      fs.writeFileSync(configFile, original);
    }
  });

  uiTest('the commands are in the command palette', async () => {
    const entries = await workbench.paletteEntries('FunctionGraph:');
    await workbench.screenshot('command-palette');
    await workbench.closeQuickInput();
    for (const title of [
      'Run Handler Locally',
      'Debug Handler',
      'New Test Event…',
      'Select Test Event…',
      'Package Function (zip)',
      'Open Function Config',
      'Select Python Interpreter for Function…',
      'Restart Language Server',
    ]) {
      assert.ok(
        entries.some((entry) => entry.includes(`FunctionGraph: ${title}`)),
        `"FunctionGraph: ${title}" missing from the palette: ${entries.join(' | ')}`,
      );
    }
  });

  uiTest('a broken test event gives one message naming the line, and nothing runs', async () => {
    fs.writeFileSync(path.join(workspace, 'events', 'broken.json'), '{\n  "name": "e2e",\n}\n');
    await workbench.openFile('index.py');
    await workbench.runCommand('FunctionGraph: Select Test Event…');
    await workbench.pickQuickItem('broken.json');
    await workbench.statusBarItem('broken.json').waitFor({ timeout: UI_TIMEOUT });
    await workbench.runCommand('FunctionGraph: Run Handler Locally');
    const toast = workbench.notifications.filter({ hasText: 'broken.json is not valid JSON' });
    await toast.waitFor({ timeout: UI_TIMEOUT });
    assert.match((await toast.textContent()) ?? '', /line 3/);
    await workbench.screenshot('broken-event-message');
    await workbench.clearNotifications();
    await workbench.runCommand('FunctionGraph: Select Test Event…');
    await workbench.pickQuickItem('hello.json');
    await workbench.statusBarItem('hello.json').waitFor({ timeout: UI_TIMEOUT });
  });

  uiTest('New Test Event creates an event from a trigger template and selects it', async () => {
    await workbench.openFile('index.py');
    await workbench.runCommand('FunctionGraph: New Test Event…');
    await workbench.quickInput.locator('.monaco-list-row', { hasText: 'apig' }).first().waitFor({ timeout: UI_TIMEOUT });
    const templates = await workbench.quickInput.locator('.monaco-list-row .label-name').allTextContents();
    await workbench.screenshot('new-test-event-templates');
    await workbench.pickQuickItem('timer', { thenCloses: false });
    // The next step asks for the file name, suggesting one.
    const name = workbench.quickInput.locator('input');
    await workbench.quickInput.locator('.quick-input-message, .quick-input-title', { hasText: /File name|new test event/ }).first().waitFor({ timeout: UI_TIMEOUT });
    await workbench.page.waitForFunction(`document.querySelector('.quick-input-widget input')?.value === 'timer.json'`, undefined, { timeout: UI_TIMEOUT });
    await name.press('Enter');
    await workbench.page.locator('.tab.active', { hasText: 'timer.json' }).waitFor({ timeout: UI_TIMEOUT });
    const created = JSON.parse(fs.readFileSync(path.join(workspace, 'events', 'timer.json'), 'utf8'));
    assert.equal(typeof created, 'object', 'the event file holds a JSON object');
    assert.ok(templates.some((label) => label.trim() === 'obs'), templates.join(', '));
    await workbench.openFile('index.py');
    await workbench.statusBarItem('timer.json').waitFor({ timeout: UI_TIMEOUT });
    await workbench.runCommand('FunctionGraph: Select Test Event…');
    await workbench.pickQuickItem('hello.json');
    await workbench.statusBarItem('hello.json').waitFor({ timeout: UI_TIMEOUT });
  });

  uiTest('Package Function writes the zip and says where', async () => {
    await workbench.openFile('index.py');
    await workbench.runCommand('FunctionGraph: Package Function (zip)');
    const toast = workbench.notifications.filter({ hasText: 'packaged dist/hello-e2e.zip' });
    await toast.waitFor({ timeout: UI_TIMEOUT });
    assert.ok(fs.existsSync(path.join(workspace, 'dist', 'hello-e2e.zip')));
    await workbench.notifications.filter({ hasText: 'packaging…' }).waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await workbench.screenshot('package-function');
  });

  uiTest('Run Handler Locally shows the return, the execution summary and the logs', async () => {
    await workbench.openFile('index.py');
    if (bundles('server/__main__.py')) {
      // The language server's CodeLens above the handler runs the same command.
      await workbench.activeEditor.locator('.codelens-decoration a', { hasText: 'Run locally' }).click();
    } else {
      await workbench.runCommand('FunctionGraph: Run Handler Locally');
    }
    const view = workbench.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame').locator('body');
    await view.getByText('Hello, e2e!').waitFor({ timeout: UI_TIMEOUT });
    const text = (await view.textContent()) ?? '';
    assert.match(text, /Succeeded/);
    // The Python that ran it: the runtime's own (pyenv's 3.9 on the project's machines).
    assert.match(text, /Ran locally \(fglocal\) on Python 3\.9\.\d+ \(\/\S+python3\.9\)/);
    // Billed: the duration rounded up to a whole millisecond (how long the run took is the machine's business).
    const duration = Number(/Duration\s*([\d.]+) ms/.exec(text)?.[1]);
    const billed = Number(/Billed duration\s*(\d+) ms/.exec(text)?.[1]);
    assert.ok(Number.isInteger(billed) && billed >= duration && billed < duration + 1.01, `billed ${billed} ms for ${duration} ms`);
    assert.match(text, /Memory size\s*128 MB/);
    assert.match(text, /INFO greeting e2e/);
    await workbench.page.locator('.tab', { hasText: 'Result: index.handler' }).waitFor({ timeout: UI_TIMEOUT });
    await workbench.notifications.filter({ hasText: 'running index.handler' }).waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await workbench.screenshot('run-locally-result-view');
  });

  uiTest('typing `context.` in index.py offers the Context methods', async (t) => {
    if (!bundles('server/__main__.py')) return skip(t, 'the language server (server/__main__.py) is not in this build yet');
    await workbench.openFile('index.py');
    await workbench.waitForLanguageServer();
    await workbench.goToLine(8);
    await workbench.page.keyboard.press('End');
    await workbench.page.keyboard.press('Enter');
    await workbench.page.keyboard.type('context.', { delay: 30 });
    await workbench.suggestWidget.waitFor({ timeout: UI_TIMEOUT });
    await workbench.suggestWidget.locator('.monaco-list-row', { hasText: 'get' }).first().waitFor({ timeout: UI_TIMEOUT });
    await workbench.screenshot('completion-context');
    const labels = await workbench.suggestLabels();
    for (const name of ['getRequestID', 'getUserData', 'getLogger', 'getRemainingTimeInMilliSeconds']) {
      assert.ok(labels.some((label) => label.startsWith(name)), `${name} not offered: ${labels.join(', ')}`);
    }
    await workbench.page.keyboard.press('Escape');
    await workbench.suggestWidget.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await workbench.runCommand('File: Revert File');
    await workbench.page.locator('.tab.active:not(.dirty)', { hasText: 'index.py' }).waitFor({ timeout: UI_TIMEOUT });
  });

  uiTest('a wrong-signature bad.py beside index.py shows in the Problems panel', async (t) => {
    if (!bundles('server/__main__.py')) return skip(t, 'the language server (server/__main__.py) is not in this build yet');
    const bad = path.join(workspace, 'bad.py');
    fs.writeFileSync(bad, 'def handler(event):\n    return 1\n');
    try {
      await workbench.openFile('bad.py');
      await workbench.waitForLanguageServer();
      await workbench.activeEditor.locator('.squiggly-error').first().waitFor({ timeout: UI_TIMEOUT });
      const rows = await workbench.problems(/takes only 1/);
      assert.ok(rows.some((row) => /bad\.py/.test(row) || /takes only 1/.test(row)), rows.join('\n'));
      assert.ok(rows.some((row) => /handler-signature/.test(row)), rows.join('\n'));
      await workbench.screenshot('bad-py-problems');
    } finally {
      fs.rmSync(bad, { force: true });
    }
  });

  uiTest('a handler module created and deleted on disk outside the editor makes fglocal.json\'s problem go and come back', async (t) => {
    if (!bundles('server/__main__.py')) return skip(t, 'the language server (server/__main__.py) is not in this build yet');
    // The server registers its own file watchers (**/*.py among them): nothing here is typed in the editor.
    const configFile = path.join(workspace, 'fglocal.json');
    const worker = path.join(workspace, 'worker.py');
    const original = fs.readFileSync(configFile, 'utf8');
    const problem = workbench.page.locator('.markers-panel .monaco-list-row', { hasText: /worker\.py, which does not exist/ }).first();
    try {
      await workbench.openFile('index.py');
      await workbench.waitForLanguageServer();
      fs.writeFileSync(configFile, original.replace('"index.handler"', '"worker.handler"'));
      const rows = await workbench.problems(/worker\.py, which does not exist/);
      assert.ok(rows.some((row) => /fglocal\.json/.test(row)), rows.join('\n'));
      await workbench.screenshot('handler-module-missing');
      // `git checkout` brings the module: the problem goes, without the file ever being opened.
      fs.writeFileSync(worker, 'def handler(event, context):\n    return 1\n');
      await problem.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
      await workbench.screenshot('handler-module-created-on-disk');
      // Deleted outside the editor again: the problem is back.
      fs.rmSync(worker);
      await problem.waitFor({ timeout: UI_TIMEOUT });
      await workbench.screenshot('handler-module-deleted-on-disk');
    } finally {
      fs.rmSync(worker, { force: true });
      fs.writeFileSync(configFile, original);
    }
    await problem.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  });

  uiTest('typing `event["` offers the keys of the selected test event', async (t) => {
    if (!bundles('server/__main__.py')) return skip(t, 'the language server (server/__main__.py) is not in this build yet');
    // Another event with other keys: only the selected one's (hello.json: "name") are offered.
    const other = path.join(workspace, 'events', 'other.json');
    fs.writeFileSync(other, '{"other_key": 1}\n');
    try {
      await workbench.openFile('index.py');
      await workbench.runCommand('FunctionGraph: Select Test Event…');
      await workbench.pickQuickItem('hello.json');
      await workbench.statusBarItem('hello.json').waitFor({ timeout: UI_TIMEOUT });
      await workbench.waitForLanguageServer();
      await workbench.goToLine(8);
      await workbench.page.keyboard.press('End');
      await workbench.page.keyboard.press('Enter');
      await workbench.page.keyboard.type('value = event["', { delay: 30 });
      await workbench.suggestWidget.locator('.monaco-list-row', { hasText: 'name' }).first().waitFor({ timeout: UI_TIMEOUT });
      await workbench.screenshot('completion-event-keys');
      const labels = await workbench.suggestLabels();
      assert.ok(labels.includes('name'), labels.join(', '));
      assert.ok(!labels.includes('other_key'), `keys of an event that is not selected: ${labels.join(', ')}`);
      await workbench.page.keyboard.press('Escape');
      await workbench.suggestWidget.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
      await workbench.runCommand('File: Revert File');
      await workbench.page.locator('.tab.active:not(.dirty)', { hasText: 'index.py' }).waitFor({ timeout: UI_TIMEOUT });
    } finally {
      fs.rmSync(other, { force: true });
    }
  });

  uiTest('saving a handler with a wrong signature shows the problem in the editor and the Problems panel', async (t) => {
    if (!bundles('server/__main__.py')) return skip(t, 'the language server (server/__main__.py) is not in this build yet');
    await workbench.openFile('index.py');
    await workbench.waitForLanguageServer();
    await workbench.goToLine(4);
    await workbench.page.keyboard.press('Home');
    await workbench.page.keyboard.press('Shift+End');
    await workbench.page.keyboard.type('def handler(event):');
    await workbench.page.keyboard.press('Control+S');
    await workbench.page.locator('.tab.active:not(.dirty)', { hasText: 'index.py' }).waitFor({ timeout: UI_TIMEOUT });
    const squiggle = workbench.activeEditor.locator('.squiggly-error, .squiggly-warning').first();
    await squiggle.waitFor({ timeout: UI_TIMEOUT });
    const rows = await workbench.problems(/handler/);
    assert.ok(rows.some((row) => /handler-signature/.test(row) || /\(event, context\)/.test(row)), rows.join('\n'));
    // Go to the problem as a user would (F8): the editor shows the message under the line.
    await workbench.activeEditor.locator('.view-lines').click();
    await workbench.page.keyboard.press('F8');
    const inline = workbench.page.locator('.marker-widget', { hasText: /takes only 1|\(event, context\)/ }).first();
    await inline.waitFor({ timeout: UI_TIMEOUT });
    await workbench.screenshot('wrong-signature-diagnostic');
    await workbench.page.locator('.zone-widget .head .codicon-close').first().click();
    await inline.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    // Settings reach the server without a reload: diagnostics off, the problem goes; on, it is back.
    await workbench.setBooleanSetting('functiongraph.diagnostics.enabled', false);
    await workbench.openFile('index.py');
    await workbench.activeEditor.locator('.view-lines').waitFor({ timeout: UI_TIMEOUT });
    await squiggle.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    await workbench.setBooleanSetting('functiongraph.diagnostics.enabled', true);
    await workbench.openFile('index.py');
    await squiggle.waitFor({ timeout: UI_TIMEOUT });
    // Put the handler back for the next test.
    await workbench.goToLine(4);
    await workbench.page.keyboard.press('Home');
    await workbench.page.keyboard.press('Shift+End');
    await workbench.page.keyboard.type('def handler(event, context):');
    await workbench.page.keyboard.press('Control+S');
    await workbench.page.locator('.tab.active:not(.dirty)', { hasText: 'index.py' }).waitFor({ timeout: UI_TIMEOUT });
    await squiggle.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    assert.equal(fs.readFileSync(path.join(workspace, 'index.py'), 'utf8'), fs.readFileSync(path.join(fixture, 'index.py'), 'utf8'));
  });

  uiTest('an APIG test event with a wrong type shows the schema\'s problem in the Problems panel', async () => {
    // A known APIG key with a number where the trigger sends a string: VS Code's JSON support checks
    // the file against the schema the extension contributes for events/apig-*.json.
    const event = path.join(workspace, 'events', 'apig-e2e.json');
    fs.writeFileSync(event, '{\n  "httpMethod": 42,\n  "path": "/orders"\n}\n');
    try {
      await workbench.openFile('events/apig-e2e.json');
      await workbench.activeEditor.locator('.squiggly-warning, .squiggly-error').first().waitFor({ timeout: UI_TIMEOUT });
      const rows = await workbench.problems(/Incorrect type/);
      assert.ok(rows.some((row) => /Incorrect type\. Expected "string"/.test(row)), rows.join('\n'));
      assert.ok(rows.some((row) => /apig-e2e\.json/.test(row)), rows.join('\n'));
      await workbench.screenshot('apig-event-schema-problem');
    } finally {
      fs.rmSync(event, { force: true });
    }
  });

  uiTest('fglocal.json: an invalid runtime and memorySize are problems; completion offers the contract\'s fields and values', async () => {
    await workbench.openFile('fglocal.json');
    // Edited in the editor only (never saved): the buffer is what VS Code validates.
    await workbench.goToLine(3);
    await workbench.page.keyboard.press('Home');
    await workbench.page.keyboard.press('Shift+End');
    await workbench.page.keyboard.insertText('  "runtime": "python9.9",');
    await workbench.goToLine(4);
    await workbench.page.keyboard.press('Home');
    await workbench.page.keyboard.press('Shift+End');
    await workbench.page.keyboard.insertText('  "memorySize": 100,');
    await workbench.activeEditor.locator('.squiggly-warning, .squiggly-error').first().waitFor({ timeout: UI_TIMEOUT });
    const rows = await workbench.problems(/Value is not accepted/);
    const problems = rows.join('\n');
    assert.ok(rows.some((row) => /Value is not accepted.*"python3\.9"/.test(row)), problems);
    assert.ok(rows.some((row) => /Value is not accepted.*\b128\b.*\b256\b/.test(row)), problems);
    await workbench.screenshot('fglocal-schema-problems');
    // Field names: a new property on line 2 offers the contract's fields that the file lacks.
    await workbench.goToLine(1);
    await workbench.page.keyboard.press('End');
    await workbench.page.keyboard.press('Enter');
    await workbench.page.keyboard.type('"', { delay: 30 });
    await workbench.suggestWidget.locator('.monaco-list-row', { hasText: 'initializer' }).first().waitFor({ timeout: UI_TIMEOUT });
    const fields = await workbench.suggestLabels();
    for (const name of ['initializer', 'initializerTimeout', 'envFile', 'codeUri', 'python']) {
      assert.ok(fields.some((label) => label.replace(/"/g, '') === name), `${name} not offered: ${fields.join(', ')}`);
    }
    await workbench.screenshot('fglocal-completion-fields');
    await workbench.page.keyboard.press('Escape');
    await workbench.suggestWidget.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    // Values: the runtime's value offers the runtimes the contract lists.
    await workbench.page.keyboard.press('Home');
    await workbench.page.keyboard.press('Shift+End');
    await workbench.page.keyboard.insertText('  "runtime": ');
    await workbench.page.keyboard.press('Control+Space');
    await workbench.suggestWidget.locator('.monaco-list-row', { hasText: 'python3.12' }).first().waitFor({ timeout: UI_TIMEOUT });
    const values = await workbench.suggestLabels();
    for (const runtime of ['python2.7', 'python3.6', 'python3.9', 'python3.10', 'python3.12']) {
      assert.ok(values.some((label) => label.replace(/"/g, '') === runtime), `${runtime} not offered: ${values.join(', ')}`);
    }
    await workbench.screenshot('fglocal-completion-runtimes');
    await workbench.page.keyboard.press('Escape');
    await workbench.suggestWidget.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await workbench.runCommand('File: Revert File');
    await workbench.page.locator('.tab.active:not(.dirty)', { hasText: 'fglocal.json' }).waitFor({ timeout: UI_TIMEOUT });
    assert.equal(fs.readFileSync(path.join(workspace, 'fglocal.json'), 'utf8'), fs.readFileSync(path.join(fixture, 'fglocal.json'), 'utf8'));
  });

  uiTest('fglocal.json: an invalid runtime typed and not saved is the language server\'s problem at once; reverted, it goes', async (t) => {
    if (!bundles('server/__main__.py')) return skip(t, 'the language server (server/__main__.py) is not in this build yet');
    const configFile = path.join(workspace, 'fglocal.json');
    const original = fs.readFileSync(configFile, 'utf8');
    // The language server's own check (config-error), not the JSON schema's "Value is not accepted".
    const problem = workbench.page.locator('.markers-panel .monaco-list-row', { hasText: /got "python9\.9"\. The language server uses the defaults/ }).first();
    await workbench.openFile('fglocal.json');
    await workbench.waitForLanguageServer();
    await workbench.goToLine(3);
    await workbench.page.keyboard.press('Home');
    await workbench.page.keyboard.press('Shift+End');
    await workbench.page.keyboard.insertText('  "runtime": "python9.9",');
    const rows = await workbench.problems(/got "python9\.9"\. The language server uses the defaults/);
    assert.ok(rows.some((row) => /config-error/.test(row)), rows.join('\n'));
    assert.equal(fs.readFileSync(configFile, 'utf8'), original, 'fglocal.json was written');
    await workbench.screenshot('fglocal-unsaved-runtime-language-server');
    // Reverted to the saved text (a valid runtime) without saving anything: the problem goes.
    await workbench.runCommand('File: Revert File');
    await workbench.page.locator('.tab.active:not(.dirty)', { hasText: 'fglocal.json' }).waitFor({ timeout: UI_TIMEOUT });
    await problem.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    assert.equal(fs.readFileSync(configFile, 'utf8'), original);
  });

  uiTest('Restart Language Server starts a new server that answers', async (t) => {
    if (!bundles('server/__main__.py')) return skip(t, 'the language server (server/__main__.py) is not in this build yet');
    await workbench.openFile('index.py');
    await workbench.waitForLanguageServer();
    const before = countInLog('FunctionGraph language server started');
    await workbench.runCommand('FunctionGraph: Restart Language Server');
    await waitFor(() => countInLog('FunctionGraph language server started') > before, 'a second "language server started" in the log');
    await workbench.waitForLanguageServer();
    // The new server answers: the CodeLens above the handler comes back.
    await workbench.activeEditor.locator('.codelens-decoration a', { hasText: 'Run locally' }).waitFor({ timeout: UI_TIMEOUT });
  });

  uiTest('a breakpoint + F5 stops on the line; continuing shows the return and the summary', async (t) => {
    if (!bundles('debug_adapter/__main__.py')) return skip(t, 'the debug adapter (debug_adapter/__main__.py) is not in this build yet');
    await workbench.openFile('index.py');
    await workbench.goToLine(7);
    await workbench.page.keyboard.press('F9');
    await workbench.activeEditor.locator('.codicon-debug-breakpoint').first().waitFor({ timeout: UI_TIMEOUT });
    await workbench.page.keyboard.press('F5');
    // Paused: the editor marks the current line and the call stack names index.py at line 7.
    await workbench.activeEditor.locator('.debug-top-stack-frame-line').first().waitFor({ timeout: UI_TIMEOUT });
    const frame = workbench.page.locator('.debug-call-stack .monaco-list-row', { hasText: 'index.py' }).first();
    await frame.waitFor({ timeout: UI_TIMEOUT });
    assert.match((await frame.textContent()) ?? '', /handler.*index\.py\s*7:/s);
    // The handler's locals: the test event is there.
    await workbench.page.locator('.debug-variables .monaco-list-row', { hasText: /^\s*event/ }).first().waitFor({ timeout: UI_TIMEOUT });
    await workbench.screenshot('debug-paused-at-breakpoint');
    await workbench.page.keyboard.press('F5');
    await workbench.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    // A taller Debug Console (the panel's own maximize button), so the return and the summary are
    // on screen together.
    await workbench.page.locator('.part.panel .composite-bar .action-label', { hasText: /debug console/i }).click();
    await workbench.maximizePanel();
    const text = await workbench.debugConsoleText('Function return', 'Hello, e2e!', 'Execution summary', 'Billed Duration');
    assert.match(text, /Function return[\s\S]*Execution summary/);
    await workbench.screenshot('debug-console-result');
    await workbench.restorePanel();
  });

  uiTest('Start Without Debugging (no launch.json) runs past the breakpoint to the result', async (t) => {
    if (!bundles('debug_adapter/__main__.py')) return skip(t, 'the debug adapter (debug_adapter/__main__.py) is not in this build yet');
    await workbench.openFile('index.py');
    // The breakpoint from the previous check is still set on line 7.
    await workbench.activeEditor.locator('.codicon-debug-breakpoint').first().waitFor({ timeout: UI_TIMEOUT });
    await workbench.runCommand('Debug Console: Focus on Debug Console View');
    await workbench.page.locator('.part.panel [aria-label^="Clear Console"]').first().click();
    await workbench.page.locator('.repl .monaco-list-row', { hasText: 'Function return' }).first().waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    await workbench.activeEditor.locator('.view-lines').click();
    await workbench.runCommand('Debug: Start Without Debugging');
    // Only a session that never stopped gets to its result.
    await workbench.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await workbench.maximizePanel();
    const text = await workbench.debugConsoleText('Function return', 'Hello, e2e!', 'Execution summary');
    assert.match(text, /Function return[\s\S]*Execution summary/);
    await workbench.restorePanel();
  });

  uiTest('F5 on a python2.7 function stops in Python 2.7 (debugpy 1.5.1) and shows the result', async (t) => {
    if (!bundles('debug_adapter/__main__.py')) return skip(t, 'the debug adapter (debug_adapter/__main__.py) is not in this build yet');
    const configFile = path.join(workspace, 'fglocal.json');
    const original = fs.readFileSync(configFile, 'utf8');
    fs.writeFileSync(configFile, original.replace('"python3.9"', '"python2.7"'));
    try {
      await workbench.openFile('index.py');
      // The runtime's own interpreter (pyenv's 2.7 on the project's machines).
      await workbench.statusBarItem(/python2\.7 · 2\.7\.\d+/).waitFor({ timeout: UI_TIMEOUT });
      // The breakpoint from the checks above is still set on line 7.
      await workbench.activeEditor.locator('.codicon-debug-breakpoint').first().waitFor({ timeout: UI_TIMEOUT });
      await workbench.runCommand('Debug Console: Focus on Debug Console View');
      await workbench.page.locator('.part.panel [aria-label^="Clear Console"]').first().click();
      await workbench.activeEditor.locator('.view-lines').click();
      await workbench.page.keyboard.press('F5');
      await workbench.activeEditor.locator('.debug-top-stack-frame-line').first().waitFor({ timeout: UI_TIMEOUT });
      const frame = workbench.page.locator('.debug-call-stack .monaco-list-row', { hasText: 'index.py' }).first();
      await frame.waitFor({ timeout: UI_TIMEOUT });
      assert.match((await frame.textContent()) ?? '', /handler.*index\.py\s*7:/s);
      // Evaluated in the paused frame, in the Debug Console: the function runs on Python 2.7.
      await workbench.runCommand('Debug Console: Focus on Debug Console View');
      // The console's input line is a small editor: click into it, then type.
      const input = workbench.page.locator('.repl-input-wrapper .monaco-editor').first();
      await input.waitFor({ timeout: UI_TIMEOUT });
      await input.click();
      await workbench.page.keyboard.type("__import__('sys').version");
      await workbench.page.keyboard.press('Enter');
      await workbench.debugConsoleText(/'2\.7\.\d+ /);
      // Python 2's own values: the event's strings are unicode, as on the platform's 2.7 runtime.
      await workbench.page.locator('.debug-variables .monaco-list-row', { hasText: "u'e2e'" }).first().waitFor({ timeout: UI_TIMEOUT });
      await workbench.screenshot('debug-python27-paused');
      await workbench.activeEditor.locator('.view-lines').click();
      await workbench.page.keyboard.press('F5');
      await workbench.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
      await workbench.maximizePanel(); // the console's list is virtual: the return must be on screen
      const text = await workbench.debugConsoleText('Function return', 'Hello, e2e!', 'Execution summary');
      assert.match(text, /Function return[\s\S]*Execution summary/);
      await workbench.screenshot('debug-python27-result');
      await workbench.restorePanel();
    } finally {
      fs.writeFileSync(configFile, original);
    }
  });

  uiTest('a handler that does not exist gives one message naming it, and the result view shows the error', async () => {
    const configFile = path.join(workspace, 'fglocal.json');
    const original = fs.readFileSync(configFile, 'utf8');
    fs.writeFileSync(configFile, original.replace('"index.handler"', '"index.nope"'));
    try {
      await workbench.openFile('index.py');
      await workbench.runCommand('FunctionGraph: Run Handler Locally');
      const toast = workbench.notifications.filter({ hasText: 'index.nope failed' });
      await toast.waitFor({ timeout: UI_TIMEOUT });
      assert.equal(await toast.count(), 1);
      const view = workbench.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame').locator('body');
      await view.locator('.status.failed').waitFor({ timeout: UI_TIMEOUT });
      assert.match((await view.textContent()) ?? '', /nope/);
      await workbench.notifications.filter({ hasText: 'running index.nope' }).waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
      await workbench.screenshot('missing-handler-message');
    } finally {
      fs.writeFileSync(configFile, original);
    }
  });

  uiTest('an interpreter that does not exist gives one notification with the fix', async () => {
    await workbench.setSetting('functiongraph.python', '/nonexistent/bin/python3');
    await workbench.openFile('index.py');
    const toast = workbench.notifications.filter({ hasText: 'was not found' });
    await toast.waitFor({ timeout: UI_TIMEOUT });
    await workbench.page.locator('.statusbar-item [aria-label*="language server failed"], .statusbar-item[aria-label*="language server failed"]').first().waitFor({ timeout: UI_TIMEOUT });
    assert.match((await toast.textContent()) ?? '', /functiongraph\.python/);
    assert.equal(await toast.count(), 1);
    await workbench.screenshot('missing-interpreter-message');
    await workbench.setSetting('functiongraph.python', E2E_PYTHON);
    await workbench.openFile('index.py');
    if (bundles('server/__main__.py')) await workbench.waitForLanguageServer();
    else await workbench.statusBarItem('hello.json').waitFor({ timeout: UI_TIMEOUT });
  });
});
