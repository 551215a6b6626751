// The cloud commands in a real VS Code (code-server): Set Credentials (SecretStorage), Deploy Function and
// Invoke in the Cloud run the bundled fglocal and the bundled Huawei Cloud SDK against the project's
// signature-checking FunctionGraph API (tests/fg_api_server.py) on 127.0.0.1, which code-server's
// environment names in FGLOCAL_FUNCTIONGRAPH_ENDPOINT. Run through e2e/run.sh (see extension.e2e.ts).
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Browser } from 'playwright-core';
import { CodeServer, copyTree, installExtension, launchBrowser, makeSandbox, openWorkbench, run, Sandbox, startCodeServer } from './harness';
import { UI_TIMEOUT, Workbench } from './workbench';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the e2e test through e2e/run.sh (make ext-e2e)`);
  return path.resolve(value);
}

const codeServerBin = requiredEnv('FG_E2E_CODE_SERVER');
const vsix = requiredEnv('FG_E2E_VSIX');
const output = path.join(requiredEnv('FG_E2E_OUTPUT'), 'cloud');
const extensionRoot = path.resolve(__dirname, '..', '..');
const fixture = path.join(extensionRoot, 'e2e', 'fixture');
const testsDir = path.resolve(extensionRoot, '..', 'tests');
const python = process.env.FG_E2E_PYTHON ?? 'python3';

const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'files.autoSave': 'off',
  'chat.disableAIFeatures': true,
  'workbench.reduceMotion': 'on',
  'functiongraph.python': python,
};

interface Journaled {
  method: string;
  path: string;
  signature: string;
  body: string;
}

/** The test API on 127.0.0.1, journaling every request (and whether its signature was valid). */
class TestAPI {
  readonly journal: string;
  private child: ChildProcess | undefined;
  endpoint = '';

  constructor(folder: string) {
    this.journal = path.join(folder, 'api-journal.jsonl');
  }

  start(): Promise<void> {
    const child = spawn(python, [path.join(testsDir, 'fg_api_server.py'), this.journal], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    return new Promise((resolve, reject) => {
      let seen = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
        if (match?.[1] && !this.endpoint) {
          this.endpoint = match[1];
          resolve();
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => (seen += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`fg_api_server.py exited (${code}) before listening: ${seen}`)));
    });
  }

  requests(): Journaled[] {
    if (!fs.existsSync(this.journal)) return [];
    return fs.readFileSync(this.journal, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Journaled);
  }

  stop(): void {
    if (this.child?.pid !== undefined && this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

/** Every file under `folder` (recursively) whose name satisfies `keep`, with its text. */
function filesUnder(folder: string, keep: (name: string) => boolean): Array<[string, string]> {
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .map((file) => path.join(folder, file))
    .filter((file) => keep(path.basename(file)) && fs.statSync(file).isFile())
    .map((file) => [file, fs.readFileSync(file, 'utf8')]);
}

describe('FunctionGraph cloud commands in code-server', () => {
  let sandbox: Sandbox;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workbench: Workbench;
  let workspace: string;
  let api: TestAPI;
  let secrets: { ak: string; sk: string; project: string };

  before(async () => {
    fs.mkdirSync(output, { recursive: true });
    sandbox = makeSandbox(USER_SETTINGS);
    // The test credentials, from the one place that defines them (the server checks signatures with them).
    const constants = await run(python, ['-c', 'import json, fg_api_server as s; print(json.dumps([s.AK, s.SK, s.PROJECT]))'], { ...process.env, PYTHONPATH: testsDir });
    const [ak, sk, project] = JSON.parse(constants.trim()) as [string, string, string];
    secrets = { ak, sk, project };
    api = new TestAPI(output);
    fs.rmSync(api.journal, { force: true });
    await api.start();
    // Only SecretStorage may supply credentials: none from the environment running the test.
    for (const name of Object.keys(sandbox.env)) if (name.startsWith('HUAWEICLOUD_') || name.startsWith('FGLOCAL_')) delete sandbox.env[name];
    sandbox.env.FGLOCAL_FUNCTIONGRAPH_ENDPOINT = api.endpoint;
    sandbox.env.NO_PROXY = '127.0.0.1';
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
    api?.stop();
    const logs = path.join(sandbox.userData, 'logs');
    if (fs.existsSync(logs)) fs.cpSync(logs, path.join(output, 'vscode-logs'), { recursive: true });
    fs.rmSync(sandbox.root, { recursive: true, force: true });
  });

  test('Set Credentials, Deploy Function and Invoke in the Cloud reach the API signed, and the result view shows the cloud run', async () => {
    try {
      await workbench.openFile('index.py');
      await workbench.statusBarItem('hello.json').waitFor({ timeout: UI_TIMEOUT });

      await workbench.runCommand('FunctionGraph: Set Credentials');
      const answers: Array<[RegExp, string]> = [
        [/access key ID/, secrets.ak],
        [/Secret access key/, secrets.sk],
        [/Security token/, ''],
        [/Project ID/, secrets.project],
      ];
      for (const [prompt, answer] of answers) {
        await workbench.quickInput.locator('.quick-input-message', { hasText: prompt }).waitFor({ timeout: UI_TIMEOUT });
        const input = workbench.quickInput.locator('input');
        await input.fill(answer);
        await input.press('Enter');
      }
      await workbench.notifications.filter({ hasText: 'credentials stored' }).waitFor({ timeout: UI_TIMEOUT });
      await workbench.clearNotifications();

      await workbench.runCommand('FunctionGraph: Deploy Function');
      const deployed = workbench.notifications.filter({ hasText: 'FunctionGraph: deployed' });
      await deployed.waitFor({ timeout: UI_TIMEOUT });
      await workbench.screenshot('cloud-deployed');
      const creates = api.requests().filter((r) => r.method === 'POST' && /\/fgs\/functions\/?$/.test(r.path));
      assert.equal(creates.length, 1, JSON.stringify(api.requests().map((r) => `${r.method} ${r.path} ${r.signature}`)));
      assert.equal(creates[0]?.signature, 'valid');
      assert.equal((JSON.parse(creates[0]?.body ?? '{}') as { func_name?: string }).func_name, 'hello-e2e');
      await workbench.clearNotifications();

      await workbench.runCommand('FunctionGraph: Invoke in the Cloud');
      await workbench.page.locator('.tab', { hasText: 'Result: cloud: hello-function' }).waitFor({ timeout: UI_TIMEOUT });
      const view = workbench.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame').locator('body');
      await view.getByText('hello from the cloud').waitFor({ timeout: UI_TIMEOUT });
      const text = (await view.textContent()) ?? '';
      assert.match(text, /Succeeded/);
      assert.match(text, /"name": ?"e2e"|name.{0,20}e2e/); // the test API returns the event it was given
      assert.match(text, /Billed duration\s*13 ms/);
      await workbench.screenshot('cloud-invoke-result-view');
      const invocations = api.requests().filter((r) => r.method === 'POST' && r.path.endsWith('/invocations'));
      assert.equal(invocations.length, 1);
      assert.deepEqual(JSON.parse(invocations[0]?.body ?? ''), { name: 'e2e' });

      // Every request the commands made was signed with the stored credentials.
      const all = api.requests();
      assert.ok(all.length >= 3, `requests: ${all.length}`);
      for (const request of all) assert.equal(request.signature, 'valid', `${request.method} ${request.path}`);

      // The AK/SK are nowhere in the extension's output, the settings or the function's files.
      const logs = filesUnder(path.join(sandbox.userData, 'logs'), () => true);
      assert.ok(logs.some(([file, body]) => path.basename(file) === 'FunctionGraph.log' && body.includes('invoking in the cloud')), 'the extension logged the cloud run');
      const settings = filesUnder(path.join(sandbox.userData, 'User'), (name) => name.endsWith('.json'));
      const ours = filesUnder(workspace, (name) => name.endsWith('.json') || name.endsWith('.py'));
      for (const [file, body] of [...logs, ...settings, ...ours]) {
        for (const secret of [secrets.ak, secrets.sk]) assert.ok(!body.includes(secret), `a credential is in ${file}`);
      }
    } catch (error) {
      await workbench.screenshot('FAILED-cloud').catch(() => undefined);
      throw error;
    }
  });
});
