// The extension in a real VS Code (code-server) driven through headless Chromium, checked the way a
// user would see it. Run by `make test` (target ext-e2e) through e2e/run.sh, which provides:
//   FG_E2E_CODE_SERVER  the code-server binary      FG_E2E_VSIX   the .vsix under test
//   FG_E2E_OUTPUT       folder for screenshots and logs
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Browser } from 'playwright-core';
import { CodeServer, copyTree, installExtension, launchBrowser, makeSandbox, openWorkbench, Sandbox, startCodeServer } from './harness';
import { UI_TIMEOUT, Workbench } from './workbench';

const codeServerBin = requiredEnv('FG_E2E_CODE_SERVER');
const vsix = requiredEnv('FG_E2E_VSIX');
const output = requiredEnv('FG_E2E_OUTPUT');
const extensionRoot = path.resolve(__dirname, '..', '..');
const repoRoot = path.resolve(extensionRoot, '..');
const fixture = path.join(extensionRoot, 'e2e', 'fixture');

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the e2e test through e2e/run.sh (make ext-e2e)`);
  return path.resolve(value);
}

const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'files.autoSave': 'off',
  'editor.minimap.enabled': false,
  'chat.disableAIFeatures': true,
  'workbench.reduceMotion': 'on',
  'functiongraph.python': process.env.FG_E2E_PYTHON ?? 'python3',
};

describe('FunctionGraph extension in code-server', () => {
  let sandbox: Sandbox;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workbench: Workbench;
  let workspace: string;

  before(async () => {
    fs.mkdirSync(output, { recursive: true });
    sandbox = makeSandbox(USER_SETTINGS);
    workspace = path.join(sandbox.root, 'hello-function');
    copyTree(fixture, workspace);
    const installed = await installExtension(codeServerBin, sandbox, vsix);
    fs.writeFileSync(path.join(output, 'install.log'), installed);
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

  test('opening index.py activates the extension: the status bar shows the test event and runtime', async () => {
    await workbench.openFile('index.py');
    const item = workbench.statusBarItem('hello.json');
    await item.waitFor({ timeout: UI_TIMEOUT });
    assert.match((await item.textContent()) ?? '', /hello\.json.*python3\.9/);
    await workbench.screenshot('activated-status-bar');
  });

  test('the commands are in the command palette', async () => {
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
      'Restart Language Server',
    ]) {
      assert.ok(
        entries.some((entry) => entry.includes(`FunctionGraph: ${title}`)),
        `"FunctionGraph: ${title}" missing from the palette: ${entries.join(' | ')}`,
      );
    }
  });

  test('a broken test event gives one message naming the line, and nothing runs', async () => {
    fs.writeFileSync(path.join(workspace, 'events', 'broken.json'), '{\n  "name": "e2e",\n}\n');
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

  test('Run Handler Locally shows the return, the execution summary and the logs', async () => {
    await workbench.openFile('index.py');
    await workbench.runCommand('FunctionGraph: Run Handler Locally');
    const view = workbench.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame').locator('body');
    await view.getByText('Hello, e2e!').waitFor({ timeout: UI_TIMEOUT });
    const text = (await view.textContent()) ?? '';
    assert.match(text, /Succeeded/);
    assert.match(text, /Billed duration\s*1 ms/);
    assert.match(text, /Memory size\s*128 MB/);
    assert.match(text, /INFO greeting e2e/);
    await workbench.page.locator('.tab', { hasText: 'Result: index.handler' }).waitFor({ timeout: UI_TIMEOUT });
    await workbench.notifications.filter({ hasText: 'running index.handler' }).waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await workbench.screenshot('run-locally-result-view');
  });
});

void repoRoot;
