// The cloud commands in a real VS Code (code-server): Set Credentials (SecretStorage), Deploy Function,
// Invoke in the Cloud, Pull / Push Test Events and Compare Local and Cloud Result run the bundled fglocal
// and the bundled Huawei Cloud SDK against the project's signature-checking FunctionGraph API
// (tests/fg_api_server.py) on 127.0.0.1, which code-server's environment names in
// FGLOCAL_FUNCTIONGRAPH_ENDPOINT. What the console does to test events is done by e2e/console.py, with
// the same bundled SDK. The tests run in order, each on what the previous one left (credentials
// stored, function deployed, events synced). Run through e2e/run.sh (see extension.e2e.ts).
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Browser, FrameLocator, Locator } from 'playwright-core';
import { CodeServer, copyTree, E2E_PYTHON, eventually, installExtension, launchBrowser, makeSandbox, openWorkbench, outputChannel, requiredEnv, run, Sandbox, startCodeServer, USER_SETTINGS } from './harness';
import { UI_TIMEOUT, Workbench } from './workbench';

const codeServerBin = requiredEnv('FG_E2E_CODE_SERVER');
const vsix = requiredEnv('FG_E2E_VSIX');
const output = path.join(requiredEnv('FG_E2E_OUTPUT'), 'cloud');
const extensionRoot = path.resolve(__dirname, '..', '..');
const fixture = path.join(extensionRoot, 'e2e', 'fixture');
const testsDir = path.resolve(extensionRoot, '..', 'tests');

const FAILING_FUNCTION = 'hello-e2e-fails';
const FUNCTION_ERROR = { errorMessage: 'division by zero', errorType: 'ZeroDivisionError', stackTrace: ['  File "/opt/function/code/index.py", line 4, in handler'] };

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
    // FAILING_FUNCTION's invocations fail in the cloud with FUNCTION_ERROR (the platform's error object).
    const outcome = `${FAILING_FUNCTION}=${JSON.stringify({ error: FUNCTION_ERROR, func_err_code: 1 })}`;
    const child = spawn(E2E_PYTHON, [path.join(testsDir, 'fg_api_server.py'), this.journal, '--outcome', outcome], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  /** The text and HTML of every result view and error message the tests saw (checked for credentials at the end). */
  const seen: Array<[string, string]> = [];
  /** A secret key the API refuses (its signatures fail), and the journal lines of the requests signed with it. */
  const WRONG_SK = 'wrong-sk-E2E-MARKER-0123456789';
  let refused: [number, number] = [0, 0];

  /** "The console": the function's test events as the API holds them, or one of them changed. */
  async function consoleEvents(...change: [string, unknown] | []): Promise<Record<string, unknown>> {
    const installed = fs.readdirSync(sandbox.extensions).find((name) => name.startsWith('fg-devkit.functiongraph-python'));
    assert.ok(installed, `the extension is not in ${sandbox.extensions}`);
    const env = { ...process.env, PYTHONPATH: [path.join(sandbox.extensions, installed, 'bundled', 'libs'), testsDir].join(path.delimiter) };
    const action = change.length ? ['put', change[0], JSON.stringify(change[1])] : ['list'];
    const printed = await run(E2E_PYTHON, [path.join(extensionRoot, 'e2e', 'console.py'), api.endpoint, 'hello-e2e', ...action], env);
    // Its answer is its one JSON line (the output also has Python's warnings, if any).
    const answer = printed.split('\n').filter((line) => line.startsWith('{')).pop();
    assert.ok(answer !== undefined, `console.py answered: ${printed}`);
    return JSON.parse(answer) as Record<string, unknown>;
  }

  function readEvent(name: string): unknown {
    return JSON.parse(fs.readFileSync(path.join(workspace, 'events', name), 'utf8'));
  }

  function writeEvent(name: string, value: unknown): void {
    fs.writeFileSync(path.join(workspace, 'events', name), JSON.stringify(value, null, 2) + '\n');
  }

  /** The webview of the editor tab titled `title` (the only webview open: each test starts from none). */
  async function webview(title: string): Promise<{ frame: FrameLocator; body: Locator }> {
    await workbench.page.locator('.tab', { hasText: title }).waitFor({ timeout: UI_TIMEOUT });
    const frame = workbench.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    const body = frame.locator('body');
    await body.locator('h1', { hasText: title.replace(/^(Result|Compare): /, '') }).waitFor({ timeout: UI_TIMEOUT });
    return { frame, body };
  }

  async function remember(name: string, body: Locator): Promise<string> {
    const text = (await body.textContent()) ?? '';
    seen.push([`${name} (text)`, text], [`${name} (HTML)`, await body.innerHTML()]);
    return text;
  }

  /** Answers Set Credentials' prompts (the test AK and project, the given SK) and waits until they are stored. */
  async function enterCredentials(sk: string): Promise<void> {
    const answers: Array<[RegExp, string]> = [
      [/access key ID/, secrets.ak],
      [/Secret access key/, sk],
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
  }

  async function step(name: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (error) {
      await workbench.screenshot(`FAILED-${name}`).catch(() => undefined);
      throw error;
    }
  }

  before(async () => {
    fs.mkdirSync(output, { recursive: true });
    sandbox = makeSandbox(USER_SETTINGS);
    // The test credentials, from the one place that defines them (the server checks signatures with them).
    const constants = await run(E2E_PYTHON, ['-c', 'import json, fg_api_server as s; print(json.dumps([s.AK, s.SK, s.PROJECT]))'], { ...process.env, PYTHONPATH: testsDir });
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

  test('Set Credentials stores them in SecretStorage; invoking before a deploy offers Deploy Function, which creates the function, signed; deploying again changes nothing', () =>
    step('cloud-deploy', async () => {
      await workbench.openFile('index.py');
      await workbench.statusBarItem('hello.json').waitFor({ timeout: UI_TIMEOUT });

      await workbench.runCommand('FunctionGraph: Set Credentials');
      await enterCredentials(secrets.sk);

      // Invoked before it is deployed: the 404 says so and offers Deploy Function, which creates it.
      await workbench.runCommand('FunctionGraph: Invoke in the Cloud');
      const missing = workbench.notifications.filter({ hasText: 'Invoke in the Cloud failed' });
      await missing.waitFor({ timeout: UI_TIMEOUT });
      assert.match((await missing.textContent()) ?? '', /hello-e2e of app default is not deployed/);
      await workbench.screenshot('cloud-not-deployed');
      await missing.locator('.monaco-button', { hasText: 'Deploy Function' }).click();
      const deployed = workbench.notifications.filter({ hasText: 'FunctionGraph: deployed' });
      await deployed.filter({ hasText: 'created' }).waitFor({ timeout: UI_TIMEOUT });
      await workbench.screenshot('cloud-deployed');
      const creates = api.requests().filter((r) => r.method === 'POST' && /\/fgs\/functions\/?$/.test(r.path));
      assert.equal(creates.length, 1, JSON.stringify(api.requests().map((r) => `${r.method} ${r.path} ${r.signature}`)));
      assert.equal(creates[0]?.signature, 'valid');
      assert.equal((JSON.parse(creates[0]?.body ?? '{}') as { func_name?: string }).func_name, 'hello-e2e');
      await workbench.clearNotifications();

      // Deploy Function again, nothing changed: nothing is uploaded or updated.
      const before = api.requests().length;
      await workbench.runCommand('FunctionGraph: Deploy Function');
      await deployed.filter({ hasText: 'code unchanged, configuration unchanged' }).waitFor({ timeout: UI_TIMEOUT });
      const writes = api.requests().slice(before).filter((r) => r.method !== 'GET');
      assert.deepEqual(writes.map((r) => `${r.method} ${r.path}`), []);
    }));

  test('Invoke in the Cloud shows its result in the result view the local run used, labelled as the cloud\'s', () =>
    step('cloud-invoke', async () => {
      await workbench.reset();
      await workbench.openFile('index.py');
      await workbench.runCommand('FunctionGraph: Run Handler Locally');
      const local = await webview('Result: index.handler ← hello.json');
      await local.body.getByText('Hello, e2e!').waitFor({ timeout: UI_TIMEOUT });
      const localText = await remember('local result view', local.body);
      assert.match(localText, /Ran locally/);
      await workbench.screenshot('cloud-local-result-view');

      await workbench.runCommand('FunctionGraph: Invoke in the Cloud');
      const view = await webview('Result: cloud: hello-function ← hello.json');
      await view.body.getByText('hello from the cloud').waitFor({ timeout: UI_TIMEOUT });
      const text = await remember('cloud result view', view.body);
      // The same view, now showing the cloud run: one result tab, the local title gone.
      assert.equal(await workbench.page.locator('.tab', { hasText: 'Result:' }).count(), 1);
      assert.equal(await workbench.page.locator('.tab', { hasText: 'index.handler ← hello.json' }).count(), 0);
      assert.match(text, /Ran in the cloud: urn:fss:cn-test-1:[0-9a-f]+:function:default:hello-e2e:latest/);
      assert.doesNotMatch(text, /Ran locally|Hello, e2e!/);
      assert.match(text, /Succeeded/);
      assert.match(text, /"name": ?"e2e"|name.{0,20}e2e/); // the test API returns the event it was given
      assert.match(text, /Billed duration\s*13 ms/);
      await workbench.screenshot('cloud-invoke-result-view');
      const invocations = api.requests().filter((r) => r.method === 'POST' && r.path.endsWith('/invocations'));
      assert.equal(invocations.length, 1);
      assert.deepEqual(JSON.parse(invocations[0]?.body ?? ''), { name: 'e2e' });
    }));

  test('Pull Test Events brings a console event into events/ and the picker; Push sends a local one; a conflict overwrites neither side', () =>
    step('cloud-events', async () => {
      await workbench.reset();
      await workbench.openFile('index.py');
      const fromConsole = { name: 'from-console', source: 'console' };
      await consoleEvents('console-event', fromConsole);

      await workbench.runCommand('FunctionGraph: Pull Test Events');
      await workbench.notifications.filter({ hasText: 'pulled from the console: console-event.json pulled (new)' }).waitFor({ timeout: UI_TIMEOUT });
      await workbench.screenshot('cloud-pulled');
      assert.deepEqual(readEvent('console-event.json'), fromConsole);
      assert.deepEqual(readEvent('hello.json'), { name: 'e2e' });
      await workbench.clearNotifications();

      // The picker lists the pulled event (and not the sync record); hello.json, the only event before the
      // pull, is still the one in use. Picking the pulled one puts it in the status bar.
      await workbench.statusBarItem('hello.json').waitFor({ timeout: UI_TIMEOUT });
      await workbench.runCommand('FunctionGraph: Select Test Event…');
      const rows = workbench.quickInput.locator('.monaco-list-row');
      await rows.filter({ hasText: 'console-event.json' }).first().waitFor({ timeout: UI_TIMEOUT });
      const labels = await rows.allTextContents();
      assert.ok(labels.some((l) => l.includes('hello.json') && l.includes('selected')), labels.join(' | '));
      assert.ok(!labels.some((l) => l.includes('.fglocal-sync')), labels.join(' | '));
      await workbench.pickQuickItem('console-event.json');
      await workbench.statusBarItem('console-event.json').waitFor({ timeout: UI_TIMEOUT });

      const fromVSCode = { name: 'from-vscode', source: 'events/' };
      writeEvent('local-event.json', fromVSCode);
      const before = api.requests().length;
      await workbench.runCommand('FunctionGraph: Push Test Events');
      await workbench.notifications.filter({ hasText: 'pushed to the console:' }).filter({ hasText: 'local-event.json pushed (new)' }).waitFor({ timeout: UI_TIMEOUT });
      await workbench.screenshot('cloud-pushed');
      const created = api.requests().slice(before).filter((r) => r.method === 'POST' && r.path.endsWith('/events'));
      const sent = created.map((r) => JSON.parse(r.body) as { name: string; content: string });
      const pushed = sent.find((e) => e.name === 'local-event');
      assert.ok(pushed, JSON.stringify(sent));
      assert.deepEqual(JSON.parse(Buffer.from(pushed.content, 'base64').toString('utf8')), fromVSCode);
      for (const request of created) assert.equal(request.signature, 'valid');
      const inConsole = await consoleEvents();
      assert.deepEqual(inConsole['local-event'], fromVSCode);
      assert.deepEqual(inConsole['console-event'], fromConsole);
      await workbench.clearNotifications();

      // Changed on both sides since the last sync: each command says so, and neither side changes.
      const mine = { name: 'changed-in-vscode' };
      const theirs = { name: 'changed-in-console' };
      writeEvent('console-event.json', mine);
      await consoleEvents('console-event', theirs);
      const unchanged = async (): Promise<void> => {
        assert.deepEqual(readEvent('console-event.json'), mine);
        assert.deepEqual((await consoleEvents())['console-event'], theirs);
      };
      const conflict = workbench.notifications.filter({ hasText: 'Conflict since the last sync: console-event.json changed both in events/ and in the console; neither side was overwritten' });
      const beforeConflicts = api.requests().length;
      await workbench.runCommand('FunctionGraph: Pull Test Events');
      await conflict.waitFor({ timeout: UI_TIMEOUT });
      await workbench.screenshot('cloud-pull-conflict');
      await unchanged();
      await workbench.clearNotifications();
      await workbench.runCommand('FunctionGraph: Push Test Events');
      await conflict.filter({ hasText: 'Push Test Events' }).waitFor({ timeout: UI_TIMEOUT });
      await workbench.screenshot('cloud-push-conflict');
      await unchanged();
      const writes = api.requests().slice(beforeConflicts).filter((r) => r.path.includes('/events') && r.method !== 'GET');
      assert.deepEqual(writes.map((r) => `${r.method} ${r.path}`), [], 'the conflicting pull/push changed an event in the console');

      // Overwriting is the user's explicit choice, from the conflict's own button.
      await workbench.clearNotifications();
      await workbench.runCommand('FunctionGraph: Pull Test Events');
      await conflict.filter({ hasText: 'Pull Test Events' }).locator('.monaco-button', { hasText: 'Overwrite Local Files' }).click();
      await workbench.notifications.filter({ hasText: 'console-event.json pulled (updated)' }).waitFor({ timeout: UI_TIMEOUT });
      assert.deepEqual(readEvent('console-event.json'), theirs);
      assert.deepEqual(readEvent('local-event.json'), fromVSCode);
      await workbench.clearNotifications();

      // An event deleted in events/ since the last sync is deleted in the console by Push.
      fs.rmSync(path.join(workspace, 'events', 'local-event.json'));
      const beforeDelete = api.requests().length;
      await workbench.runCommand('FunctionGraph: Push Test Events');
      await workbench.notifications.filter({ hasText: 'local-event.json deleted in the console' }).waitFor({ timeout: UI_TIMEOUT });
      const deletes = api.requests().slice(beforeDelete).filter((r) => r.method === 'DELETE');
      assert.equal(deletes.length, 1, JSON.stringify(deletes));
      assert.equal(deletes[0]?.signature, 'valid');
      assert.deepEqual(Object.keys(await consoleEvents()).sort(), ['console-event', 'hello']);
    }));

  test('Compare Local and Cloud Result runs the same event both ways and shows both results side by side with what differs', () =>
    step('cloud-compare', async () => {
      await workbench.reset();
      await workbench.openFile('index.py');
      await workbench.runCommand('FunctionGraph: Select Test Event…');
      await workbench.pickQuickItem('hello.json');
      await workbench.statusBarItem('hello.json').waitFor({ timeout: UI_TIMEOUT });
      const invocationsBefore = api.requests().filter((r) => r.path.endsWith('/invocations')).length;
      // The runtime server (on by default) is ready: the local half goes through its native launcher.
      const ready = await eventually('the runtime server to be ready', () => [...outputChannel(sandbox).matchAll(/Runtime server ready \(.+?\): \S+ FGLOCAL_LAUNCHER=(\S+)$/gm)].at(-1)?.[1]);

      await workbench.runCommand('FunctionGraph: Compare Local and Cloud Result');
      const { frame, body } = await webview('Compare: hello-function ← hello.json');
      const local = body.locator('section.local');
      const cloud = body.locator('section.cloud');
      await local.getByText('Hello, e2e!').waitFor({ timeout: UI_TIMEOUT });
      await cloud.getByText('hello from the cloud').waitFor({ timeout: UI_TIMEOUT });
      await workbench.screenshot('cloud-compare');
      const localText = (await local.textContent()) ?? '';
      const cloudText = (await cloud.textContent()) ?? '';
      assert.match(localText, /^Local\s*Ran locally/);
      assert.match(localText, /greeting e2e/); // the local run's own log
      assert.doesNotMatch(localText, /hello from the cloud/);
      assert.match(cloudText, /^Cloud\s*Ran in the cloud: urn:fss:[^ ]*:hello-e2e:latest/);
      assert.match(cloudText, /"name": ?"e2e"/); // the test API returns the event
      assert.doesNotMatch(cloudText, /Hello, e2e!/);
      // Side by side: the two results start at the same height, local on the left.
      const [l, c] = [await local.boundingBox(), await cloud.boundingBox()];
      assert.ok(l && c, 'both results are drawn');
      assert.ok(l.x + l.width <= c.x, `local ${JSON.stringify(l)} is left of cloud ${JSON.stringify(c)}`);
      assert.ok(Math.abs(l.y - c.y) < 1, `local ${JSON.stringify(l)} and cloud ${JSON.stringify(c)} side by side`);
      // The difference: the returns differ (the test API echoes the event), the memory size does not.
      await body.getByText(/Differs in: Return/).waitFor({ timeout: UI_TIMEOUT });
      const row = (aspect: string): Locator => body.locator('table.differences tr', { has: frame.locator('th', { hasText: new RegExp(`^${aspect}$`) }) });
      assert.match((await row('Return').textContent()) ?? '', /Hello, e2e![\s\S]*"e2e"[\s\S]*differs$/);
      assert.match((await row('Memory size').textContent()) ?? '', /128 MB\s*128 MB\s*same$/);
      assert.match((await row('Status').textContent()) ?? '', /Succeeded\s*Succeeded\s*same$/);
      await remember('compare view', body);

      const invocations = api.requests().filter((r) => r.path.endsWith('/invocations'));
      assert.equal(invocations.length, invocationsBefore + 1);
      assert.deepEqual(JSON.parse(invocations.at(-1)?.body ?? ''), { name: 'e2e' });
      const localRun = `[info] running locally via the runtime server's launcher: ${ready} invoke --code-dir ${workspace} `;
      await eventually('the local run through the launcher in the output', () => (outputChannel(sandbox).includes(localRun) ? true : undefined));
    }));

  test('an API that refuses the credentials is reported with its error and a Set Credentials button, which fixes it', () =>
    step('cloud-refused-credentials', async () => {
      await workbench.reset();
      await workbench.openFile('index.py');
      await workbench.runCommand('FunctionGraph: Set Credentials');
      await enterCredentials(WRONG_SK);
      const start = api.requests().length;
      await workbench.runCommand('FunctionGraph: Invoke in the Cloud');
      const error = workbench.notifications.filter({ hasText: 'Invoke in the Cloud failed' });
      await error.waitFor({ timeout: UI_TIMEOUT });
      refused = [start, api.requests().length];
      await workbench.screenshot('cloud-refused-credentials');
      const text = (await error.textContent()) ?? '';
      seen.push(['the refused-credentials error', text]);
      assert.match(text, /HTTP 401 APIGW\.0301: Incorrect IAM authentication information: verify aksk signature fail \(request ID req-[0-9a-f]+\)/);
      assert.match(text, /\)\. What to do: check the credentials/);
      const requests = api.requests().slice(...refused);
      assert.ok(requests.length >= 1 && requests.every((r) => r.signature.includes('verify aksk signature fail')), JSON.stringify(requests));

      await error.locator('.monaco-button', { hasText: 'Set Credentials' }).click();
      await enterCredentials(secrets.sk);
      await workbench.runCommand('FunctionGraph: Invoke in the Cloud');
      const view = await webview('Result: cloud: hello-function ← hello.json');
      await view.body.getByText('hello from the cloud').waitFor({ timeout: UI_TIMEOUT });
      await remember('cloud result view after new credentials', view.body);
      assert.equal(api.requests().at(-1)?.signature, 'valid');
    }));

  test('a function error in the cloud is shown as a local one: the platform\'s error object in the result view, and the warning', () =>
    step('cloud-function-error', async () => {
      await workbench.reset();
      await workbench.openFile('index.py');
      // The same code deployed as the function the test API fails (the previous tests' function stays as it was).
      const configFile = path.join(workspace, 'fglocal.json');
      const config = fs.readFileSync(configFile, 'utf8');
      fs.writeFileSync(configFile, config.replace('"hello-e2e"', `"${FAILING_FUNCTION}"`));
      try {
        await workbench.runCommand('FunctionGraph: Deploy Function');
        await workbench.notifications.filter({ hasText: `FunctionGraph: deployed urn:fss:cn-test-1:${secrets.project}:function:default:${FAILING_FUNCTION}:latest: created` }).waitFor({ timeout: UI_TIMEOUT });
        await workbench.clearNotifications();

        await workbench.runCommand('FunctionGraph: Invoke in the Cloud');
        const warning = workbench.notifications.filter({ hasText: 'FunctionGraph: index.handler in the cloud failed: ZeroDivisionError: division by zero' });
        await warning.waitFor({ timeout: UI_TIMEOUT });
        seen.push(['the cloud function error warning', (await warning.textContent()) ?? '']);
        assert.equal(await warning.locator('.monaco-button', { hasText: 'Show Output' }).count(), 1);
        const view = await webview('Result: cloud: hello-function ← hello.json');
        await view.body.getByText('Failed: ZeroDivisionError').waitFor({ timeout: UI_TIMEOUT });
        await workbench.screenshot('cloud-function-error');
        const text = await remember('cloud function error result view', view.body);
        assert.match(text, new RegExp(`Ran in the cloud: urn:fss:[^ ]*:${FAILING_FUNCTION}:latest`));
        // The error object as the platform sent it, every field, in the view's Error section.
        const shown = JSON.parse((await view.body.locator('h2', { hasText: /^Error$/ }).locator('xpath=following-sibling::pre[1]').textContent()) ?? '') as unknown;
        assert.deepEqual(shown, FUNCTION_ERROR);
        assert.doesNotMatch(text, /Succeeded|"name": ?"e2e"/);
        assert.match(text, /hello from the cloud/); // the log tail is there too
        const invocation = api.requests().filter((r) => r.path.endsWith('/invocations')).at(-1);
        assert.ok(invocation?.path.includes(`:${FAILING_FUNCTION}:latest`), invocation?.path);
        assert.equal(invocation?.signature, 'valid');
      } finally {
        fs.writeFileSync(configFile, config);
      }
    }));

  test('no credential reaches the output channel, the result views, the settings or the function\'s files', () =>
    step('cloud-no-credentials', async () => {
      // Every request the commands made was signed with the stored credentials (the refused ones with the wrong SK).
      const all = api.requests();
      assert.ok(all.length >= 10 && refused[1] > refused[0], `requests: ${all.length}, refused: ${refused.join('-')}`);
      all.forEach((request, i) => {
        if (i < refused[0] || i >= refused[1]) assert.equal(request.signature, 'valid', `${request.method} ${request.path}`);
      });

      // The output channel has every command's lines (it is written to FunctionGraph.log a moment later).
      const markers = ['HTTP 401 APIGW.0301', 'invoking in the cloud', 'Pull Test Events: Conflict since the last sync', 'Push Test Events:', 'Local and cloud differ in: Return', '"errorType": "ZeroDivisionError"'];
      const logs = await eventually('the FunctionGraph log to show every cloud command', () => {
        const found = filesUnder(path.join(sandbox.userData, 'logs'), () => true);
        const channel = found.filter(([file]) => path.basename(file) === 'FunctionGraph.log').map(([, body]) => body).join('\n');
        return markers.every((m) => channel.includes(m)) ? found : undefined;
      });
      assert.ok(seen.length >= 9, `result views and errors seen: ${seen.length}`);
      const settings = filesUnder(path.join(sandbox.userData, 'User'), (name) => name.endsWith('.json'));
      const ours = filesUnder(workspace, (name) => name.endsWith('.json') || name.endsWith('.py'));
      for (const [file, body] of [...logs, ...seen, ...settings, ...ours]) {
        for (const secret of [secrets.ak, secrets.sk, WRONG_SK]) assert.ok(!body.includes(secret), `a credential is in ${file}`);
      }
    }));

  test('Clear Credentials asks first, removes every stored field and says which; then a cloud command offers Set Credentials, and a second run has nothing to remove', () =>
    step('cloud-clear-credentials', async () => {
      await workbench.reset();
      await workbench.openFile('index.py');
      // Cancelled in the dialog: nothing is removed (the next cloud command is still signed).
      await workbench.runCommand('FunctionGraph: Clear Credentials');
      const dialog = workbench.page.locator('.monaco-dialog-box');
      await dialog.filter({ hasText: 'Remove the Huawei Cloud credentials stored for FunctionGraph?' }).waitFor({ timeout: UI_TIMEOUT });
      const detail = (await dialog.textContent()) ?? '';
      assert.match(detail, /This removes the access key ID \(AK\), the secret access key \(SK\) and the project ID from VS Code's secret storage/);
      await workbench.screenshot('cloud-clear-credentials-confirm');
      await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
      await workbench.runCommand('FunctionGraph: Invoke in the Cloud');
      await (await webview('Result: cloud: hello-function ← hello.json')).body.getByText('hello from the cloud').waitFor({ timeout: UI_TIMEOUT });
      assert.equal(api.requests().at(-1)?.signature, 'valid');
      await workbench.reset();
      await workbench.openFile('index.py');

      // Confirmed: removed, and the message names what (never a value).
      await workbench.runCommand('FunctionGraph: Clear Credentials');
      await dialog.locator('.monaco-button', { hasText: 'Clear Credentials' }).click();
      const removed = workbench.notifications.filter({ hasText: 'removed the access key ID (AK), the secret access key (SK) and the project ID from VS Code\'s secret storage' });
      await removed.waitFor({ timeout: UI_TIMEOUT });
      const texts = [detail, (await removed.textContent()) ?? ''];
      await workbench.screenshot('cloud-credentials-cleared');
      await workbench.clearNotifications();

      // The secret is gone: the next cloud command runs without credentials, signs nothing, and offers Set Credentials.
      const before = api.requests().length;
      await workbench.runCommand('FunctionGraph: Invoke in the Cloud');
      const failed = workbench.notifications.filter({ hasText: 'Invoke in the Cloud failed' });
      await failed.waitFor({ timeout: UI_TIMEOUT });
      const text = (await failed.textContent()) ?? '';
      texts.push(text);
      assert.match(text, /no Huawei Cloud credentials/);
      assert.equal(await failed.locator('.monaco-button', { hasText: 'Set Credentials' }).count(), 1);
      assert.deepEqual(api.requests().slice(before).filter((r) => r.signature === 'valid'), []);
      await workbench.screenshot('cloud-no-credentials-offers-set');
      await workbench.clearNotifications();

      // A second run: nothing to remove, and no dialog.
      await workbench.runCommand('FunctionGraph: Clear Credentials');
      const nothing = workbench.notifications.filter({ hasText: 'no credentials are stored in VS Code\'s secret storage; nothing to remove' });
      await nothing.waitFor({ timeout: UI_TIMEOUT });
      texts.push((await nothing.textContent()) ?? '');
      assert.equal(await dialog.count(), 0);
      for (const shown of texts) {
        for (const secret of [secrets.ak, secrets.sk, secrets.project, WRONG_SK]) assert.ok(!shown.includes(secret), `a credential is in: ${shown}`);
      }
    }));
});
