// Start Debugging and Start Without Debugging one after the other, in both orders, in a real VS Code
// (code-server): a debugged session after a run without the debugger stops at the breakpoint, and a
// run after a debugged session runs past it; without a launch.json (runtime server on) and with one
// (runtime server off). Own code-server; output in test-output/e2e/debug-modes/.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test, TestContext } from 'node:test';
import { Browser } from 'playwright-core';
import { CodeServer, copyTree, installExtension, launchBrowser, makeSandbox, openWorkbench, requiredEnv, Sandbox, startCodeServer, USER_SETTINGS } from './harness';
import { UI_TIMEOUT, Workbench } from './workbench';

const codeServerBin = requiredEnv('FG_E2E_CODE_SERVER');
const vsix = requiredEnv('FG_E2E_VSIX');
const output = path.join(requiredEnv('FG_E2E_OUTPUT'), 'debug-modes');
const fixture = path.join(path.resolve(__dirname, '..', '..'), 'e2e', 'fixture');

const LAUNCH_JSON = {
  version: '0.2.0',
  configurations: [
    {
      type: 'functiongraph',
      request: 'launch',
      name: 'FunctionGraph: index.handler (launch.json)',
      handler: 'index.handler',
      codeUri: '${workspaceFolder}',
      eventFile: '${workspaceFolder}/events/hello.json',
    },
  ],
};

describe('Start Debugging and Start Without Debugging in turn, in code-server', () => {
  let sandbox: Sandbox;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workbench: Workbench;
  let workspace: string;

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

  /** Opens index.py with a breakpoint on line 7 (set once; breakpoints persist) and clears the Debug Console. */
  async function prepare(): Promise<void> {
    await workbench.openFile('index.py');
    const breakpoint = workbench.activeEditor.locator('.codicon-debug-breakpoint').first();
    if (!(await breakpoint.isVisible())) {
      await workbench.goToLine(7);
      await workbench.page.keyboard.press('F9');
      await breakpoint.waitFor({ timeout: UI_TIMEOUT });
    }
    await workbench.runCommand('Debug Console: Focus on Debug Console View');
    await workbench.page.locator('.part.panel [aria-label^="Clear Console"]').first().click();
    await workbench.page.locator('.repl .monaco-list-row', { hasText: 'Function return' }).first().waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    await workbench.activeEditor.locator('.view-lines').click();
  }

  /** Starts a session with `start`; it must stop at index.py line 7, and continuing ends it with the result. */
  async function stopsAtBreakpoint(start: () => Promise<void>, shot: string): Promise<void> {
    await prepare();
    await start();
    await workbench.activeEditor.locator('.debug-top-stack-frame-line').first().waitFor({ timeout: UI_TIMEOUT });
    const frame = workbench.page.locator('.debug-call-stack .monaco-list-row', { hasText: 'index.py' }).first();
    await frame.waitFor({ timeout: UI_TIMEOUT });
    assert.match((await frame.textContent()) ?? '', /handler.*index\.py\s*7:/s);
    await workbench.screenshot(shot);
    await workbench.page.keyboard.press('F5');
    await workbench.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await workbench.maximizePanel();
    await workbench.debugConsoleText('Function return', 'Hello, e2e!', 'Execution summary');
    await workbench.restorePanel();
  }

  /** Starts a session with `start`; it must run past the breakpoint to the result (a stopped one never gets there). */
  async function runsPastBreakpoint(start: () => Promise<void>, shot: string): Promise<void> {
    await prepare();
    await start();
    await workbench.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await workbench.maximizePanel();
    const text = await workbench.debugConsoleText('Function return', 'Hello, e2e!', 'Execution summary');
    assert.match(text, /Function return[\s\S]*Execution summary/);
    await workbench.screenshot(shot);
    await workbench.restorePanel();
  }

  const ctrlF5 = (): Promise<void> => workbench.page.keyboard.press('Control+F5');
  const f5 = (): Promise<void> => workbench.page.keyboard.press('F5');
  const palette = (label: string) => (): Promise<void> => workbench.runCommand(label);

  before(async () => {
    fs.mkdirSync(output, { recursive: true });
    sandbox = makeSandbox(USER_SETTINGS);
    workspace = path.join(sandbox.root, 'hello-function');
    copyTree(fixture, workspace);
    fs.writeFileSync(path.join(output, 'install.log'), await installExtension(codeServerBin, sandbox, vsix));
    server = await startCodeServer(codeServerBin, sandbox, workspace, path.join(output, 'code-server.log'));
    browser = await launchBrowser();
    workbench = new Workbench(await openWorkbench(browser, server.url, workspace), output);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    const logs = path.join(sandbox.userData, 'logs');
    if (fs.existsSync(logs)) fs.cpSync(logs, path.join(output, 'vscode-logs'), { recursive: true });
    fs.rmSync(sandbox.root, { recursive: true, force: true });
  });

  uiTest('no launch.json: Ctrl+F5, then Start Debugging from the palette stops at the breakpoint', async () => {
    await runsPastBreakpoint(ctrlF5, 'no-launch-ctrl-f5');
    await stopsAtBreakpoint(palette('Debug: Start Debugging'), 'no-launch-palette-start-debugging');
    // The same after Start Without Debugging from the palette (now the most recently used command).
    await runsPastBreakpoint(palette('Debug: Start Without Debugging'), 'no-launch-palette-run');
    await stopsAtBreakpoint(palette('Debug: Start Debugging'), 'no-launch-palette-start-debugging-2');
  });

  uiTest('no launch.json: F5, then Ctrl+F5 and Start Without Debugging run past the breakpoint', async () => {
    await stopsAtBreakpoint(f5, 'no-launch-f5');
    await runsPastBreakpoint(ctrlF5, 'no-launch-ctrl-f5-after-f5');
    await stopsAtBreakpoint(palette('Debug: Start Debugging'), 'no-launch-palette-start-debugging-3');
    await runsPastBreakpoint(palette('Debug: Start Without Debugging'), 'no-launch-palette-run-after-debug');
  });

  uiTest('launch.json, runtime server off: each order debugs and runs as asked', async () => {
    await workbench.setBooleanSetting('functiongraph.runtimeServer.enabled', false);
    fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(workspace, '.vscode', 'launch.json'), JSON.stringify(LAUNCH_JSON, null, 2));
    // The launch.json configuration is the selected one once the Run and Debug view shows it.
    await workbench.runCommand('View: Show Run and Debug');
    await workbench.statusBarItem('index.handler (launch.json)').first().waitFor({ timeout: UI_TIMEOUT });
    await runsPastBreakpoint(ctrlF5, 'launch-ctrl-f5');
    await stopsAtBreakpoint(palette('Debug: Start Debugging'), 'launch-palette-start-debugging');
    await runsPastBreakpoint(palette('Debug: Start Without Debugging'), 'launch-palette-run');
    await stopsAtBreakpoint(f5, 'launch-f5');
    await runsPastBreakpoint(ctrlF5, 'launch-ctrl-f5-after-f5');
  });
});
