// Runs code-server and headless Chromium for the end-to-end test, isolated from the machine:
// throwaway TMPDIR/XDG/user-data/extensions folders, 127.0.0.1 only, every process ended afterwards.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { UI_TIMEOUT } from './workbench';

export const CHROMIUM = process.env.FG_E2E_CHROMIUM ?? '/usr/lib/chromium/chromium';

/** The Python the suites give the extension (functiongraph.python) and run their helpers with. */
export const E2E_PYTHON = process.env.FG_E2E_PYTHON ?? 'python3';

/**
 * The user settings every suite starts from (the one definition): a quiet workbench that checks,
 * updates and recommends nothing, saves only when told, and runs the tools with E2E_PYTHON. A suite
 * that needs more spreads it: makeSandbox({ ...USER_SETTINGS, 'some.setting': value }).
 */
export const USER_SETTINGS: Readonly<Record<string, unknown>> = {
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
  'functiongraph.python': E2E_PYTHON,
};

/** The path in environment variable `name`, which e2e/run.sh sets; a clear error when it is not set. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the e2e test through e2e/run.sh (make ext-e2e)`);
  return path.resolve(value);
}

/** Waits (polling, bounded by UI_TIMEOUT) until `check` gives a value; for files other processes write. */
export async function eventually<T>(what: string, check: () => T | undefined): Promise<T> {
  const deadline = Date.now() + UI_TIMEOUT;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`waited in vain for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export interface Sandbox {
  /** Root of the throwaway folders (short path: VS Code puts unix sockets in it). */
  readonly root: string;
  readonly userData: string;
  readonly extensions: string;
  readonly config: string;
  readonly env: NodeJS.ProcessEnv;
}

/** A fresh set of folders and the environment that keeps code-server inside them. */
export function makeSandbox(userSettings: Record<string, unknown>): Sandbox {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-e2e-'));
  const dirs = ['tmp', 'config', 'data', 'cache', 'state', 'user-data/User', 'extensions'];
  for (const dir of dirs) fs.mkdirSync(path.join(root, dir), { recursive: true });
  fs.writeFileSync(path.join(root, 'user-data', 'User', 'settings.json'), JSON.stringify(userSettings, null, 2));
  const config = path.join(root, 'config', 'code-server.yaml');
  fs.writeFileSync(config, 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TMPDIR: path.join(root, 'tmp'),
    XDG_CONFIG_HOME: path.join(root, 'config'),
    XDG_DATA_HOME: path.join(root, 'data'),
    XDG_CACHE_HOME: path.join(root, 'cache'),
    XDG_STATE_HOME: path.join(root, 'state'),
    XDG_RUNTIME_DIR: path.join(root, 'tmp'),
  };
  delete env.VSCODE_IPC_HOOK_CLI;
  delete env.PASSWORD;
  delete env.HASHED_PASSWORD;
  return { root, userData: path.join(root, 'user-data'), extensions: path.join(root, 'extensions'), config, env };
}

function isolationArgs(sandbox: Sandbox): string[] {
  return ['--config', sandbox.config, '--user-data-dir', sandbox.userData, '--extensions-dir', sandbox.extensions];
}

/** Runs a command to completion; rejects with its output when it fails. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`)),
    );
  });
}

/** The extension's FunctionGraph output channel as VS Code has written it so far (its log files under user-data). */
export function outputChannel(sandbox: Sandbox): string {
  const logs = path.join(sandbox.userData, 'logs');
  if (!fs.existsSync(logs)) return '';
  return fs
    .readdirSync(logs, { recursive: true, encoding: 'utf8' })
    .filter((file) => path.basename(file) === 'FunctionGraph.log')
    .map((file) => fs.readFileSync(path.join(logs, file), 'utf8'))
    .join('\n');
}

/** Installs a .vsix into the sandbox's extensions folder. */
export async function installExtension(codeServer: string, sandbox: Sandbox, vsix: string): Promise<string> {
  return run(codeServer, [...isolationArgs(sandbox), '--install-extension', vsix], sandbox.env);
}

export interface CodeServer {
  readonly url: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts code-server on 127.0.0.1 (a port the system picks) in its own process group and resolves
 * once it says where it listens. Its output goes to `logFile`.
 */
export function startCodeServer(codeServer: string, sandbox: Sandbox, folder: string, logFile: string): Promise<CodeServer> {
  const args = [
    ...isolationArgs(sandbox),
    '--bind-addr', '127.0.0.1:0',
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    folder,
  ];
  const child = spawn(codeServer, args, { env: sandbox.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = fs.createWriteStream(logFile);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.on('exit', () => ((exited = true), resolve())));
  const stop = async (): Promise<void> => {
    if (exited || child.pid === undefined) return;
    killGroup(child.pid, 'SIGTERM');
    const timer = setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), 5000);
    await exitedPromise;
    clearTimeout(timer);
    killGroup(child.pid, 'SIGKILL'); // anything of the group still around (extension host, servers)
    log.end();
  };
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      log.write(chunk);
      seen += chunk.toString();
      const match = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (match?.[1]) {
        seen = '';
        resolve({ url: match[1], process: child, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`code-server exited (${code}) before listening; see ${logFile}`)));
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Headless Debian Chromium with a fresh profile and no background networking. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** Opens the workbench for `folder` and waits until it is drawn. */
export async function openWorkbench(browser: Browser, url: string, folder: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  return page;
}

/** Copies a folder tree (the sample function) to a fresh place. */
export function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}
