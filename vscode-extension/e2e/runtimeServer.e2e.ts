// Fast cold starts in a real VS Code (code-server): the extension runs `fglocal runtime-server` for the
// workspace's runtimes, runs go through it (their instance is a child of the runtime's zygote, whose
// pid the output channel names), Run Handler Locally runs `fglocal invoke` through the server's native
// launcher (or the tools' Python when the launcher setting is off or the launcher cannot be started),
// a runtime change in fglocal.json replaces it, integrated terminals get its folder and launcher (a
// `"$FGLOCAL_LAUNCHER" invoke` typed there is forked by its zygote) while it runs and nothing once it
// is off, the setting turns it off, and killing the extension host leaves none of its processes behind. Own code-server; output in
// test-output/e2e/runtime-server/. Linux only (the server is).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test, TestContext } from 'node:test';
import { Browser } from 'playwright-core';
import { CodeServer, copyTree, eventually, installExtension, launchBrowser, makeSandbox, openWorkbench, outputChannel, requiredEnv, Sandbox, startCodeServer, USER_SETTINGS } from './harness';
import { UI_TIMEOUT, Workbench } from './workbench';

const codeServerBin = requiredEnv('FG_E2E_CODE_SERVER');
const vsix = requiredEnv('FG_E2E_VSIX');
const output = path.join(requiredEnv('FG_E2E_OUTPUT'), 'runtime-server');
const fixture = path.join(path.resolve(__dirname, '..', '..'), 'e2e', 'fixture');
const SETTING = 'functiongraph.runtimeServer.enabled';
const LAUNCHER_SETTING = 'functiongraph.runtimeServer.launcher';
const VIA_LAUNCHER = "via the runtime server's launcher";

// A handler that says which process started its instance.
const PARENT_PY = 'import os\n\n\ndef handler(event, context):\n    return {"parent": os.getppid()}\n';

/** True while `pid` runs; a zombie (ended, not reaped yet) counts as ended. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function parentPid(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** One runtime server as the output channel described it. */
interface Served {
  readonly folder: string;
  /** The server's own pid (its folder is runtime-server-<pid>). */
  readonly pid: number;
  /** The pids of its processes by what they serve: runtimes, and the warm supervisor. */
  readonly serving: Map<string, number>;
  /** Its native launcher ('' when it has none). */
  readonly launcher: string;
}

/** How Run Handler Locally started fglocal, as its log line tells. */
interface Way {
  /** "via the runtime server's launcher", "via Python, through the runtime server", "via Python". */
  readonly way: string;
  readonly program: string;
}

describe('fast cold starts: the runtime server in code-server', () => {
  let sandbox: Sandbox;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workbench: Workbench;
  let workspace: string;

  /** The FunctionGraph output channel as VS Code wrote it to its log files. */
  function channel(): string {
    return outputChannel(sandbox);
  }

  function count(pattern: RegExp): number {
    return channel().split('\n').filter((line) => pattern.test(line)).length;
  }

  /** The servers that became ready for exactly `runtimes`, as the channel tells (oldest first). */
  function servers(runtimes: string): Served[] {
    const found: Served[] = [];
    let serving = new Map<string, number>();
    for (const line of channel().split('\n')) {
      if (/Starting the runtime server/.test(line)) serving = new Map();
      const served = /runtime server: serving (.+?): Python .*, pid (\d+)$/.exec(line);
      if (served) serving.set(served[1]!, Number(served[2]));
      const ready = /Runtime server ready \((.+?)\): FGLOCAL_RUNTIME_SERVER=(\S+) (?:FGLOCAL_LAUNCHER=(\S+)|\(no launcher\))$/.exec(line);
      if (ready && ready[1] === runtimes) {
        const folder = ready[2]!;
        found.push({ folder, pid: Number(/runtime-server-(\d+)$/.exec(folder)?.[1]), serving, launcher: ready[3] ?? '' });
      }
    }
    return found;
  }

  /** Waits for the `nth` (1-based) server ready for `runtimes`. */
  async function nthServer(runtimes: string, nth: number): Promise<Served> {
    return eventually(`runtime server #${nth} for ${runtimes} to be ready`, () => servers(runtimes)[nth - 1]);
  }

  /**
   * Waits until the channel has `count` runs of `handler` that started fglocal `way` (with
   * `program`, when given); VS Code writes the channel to its log file a moment after the line.
   */
  async function ranWay(handler: string, way: string, count: number, program?: string): Promise<void> {
    const matching = (): number => ways(handler).filter((w) => w.way === way && (program === undefined || w.program === program)).length;
    await eventually(`${count} run(s) of ${handler} ${way}${program ? ` (${program})` : ''} in the output`, () => (matching() === count ? true : undefined));
  }

  /** How the runs of `handler` started fglocal, as the channel tells (oldest first). */
  function ways(handler: string): Way[] {
    const pattern = new RegExp(`\\[info\\] Running ${handler.replace('.', '\\.')} with \\S+ (via [^:]+): (\\S+) `);
    return channel()
      .split('\n')
      .flatMap((line) => {
        const match = pattern.exec(line);
        return match ? [{ way: match[1]!, program: match[2]! }] : [];
      });
  }

  /** Runs parent.py's handler with Run Handler Locally; the pid its result names. */
  async function runParent(): Promise<number> {
    await workbench.openFile('parent.py');
    await workbench.runCommand('FunctionGraph: Run Handler Locally');
    const view = workbench.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame').locator('body');
    await view.getByText('"parent"').first().waitFor({ timeout: UI_TIMEOUT });
    const text = (await view.textContent()) ?? '';
    const pid = /"parent":\s*(\d+)/.exec(text)?.[1];
    assert.ok(pid, text);
    await workbench.notifications.filter({ hasText: 'running parent.handler' }).waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await workbench.runCommand('View: Close All Editors');
    return Number(pid);
  }

  let typed = 0;
  /**
   * Opens a new integrated terminal and types `command` there as a user would; resolves with its
   * exit code once it has run (the line also writes it to a file).
   */
  async function inNewTerminal(command: string): Promise<string> {
    typed += 1;
    const done = path.join(output, `terminal-${typed}.rc`);
    await workbench.runCommand('Terminal: Create New Terminal');
    await workbench.page.locator('.xterm-helper-textarea:focus').waitFor({ state: 'attached', timeout: UI_TIMEOUT });
    await workbench.page.keyboard.type(`${command}; echo $? > '${done}'`);
    await workbench.page.keyboard.press('Enter');
    return eventually(`the terminal to run: ${command}`, () => (fs.existsSync(done) && fs.readFileSync(done, 'utf8').endsWith('\n') ? fs.readFileSync(done, 'utf8').trim() : undefined));
  }

  /** The two variables as a new integrated terminal has them ('unset' for one it has not). */
  async function terminalVariables(): Promise<[string, string]> {
    const file = path.join(output, `terminal-variables-${typed + 1}.txt`);
    assert.equal(await inNewTerminal(`printf '%s\\n' "\${FGLOCAL_RUNTIME_SERVER-unset}" "\${FGLOCAL_LAUNCHER-unset}" > '${file}'`), '0');
    const [folder, launcher] = fs.readFileSync(file, 'utf8').split('\n');
    return [folder ?? '', launcher ?? ''];
  }

  function uiTest(name: string, body: (t: TestContext) => Promise<void>): void {
    test(name, async (t) => {
      if (process.platform !== 'linux') return t.skip('the runtime server is Linux only');
      await workbench.reset();
      try {
        await body(t);
      } catch (error) {
        await workbench.screenshot(`FAILED-${name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}`).catch(() => undefined);
        throw error;
      }
    });
  }

  let extensionHost = 0;

  before(async () => {
    fs.mkdirSync(output, { recursive: true });
    sandbox = makeSandbox(USER_SETTINGS);
    workspace = path.join(sandbox.root, 'hello-function');
    copyTree(fixture, workspace);
    fs.writeFileSync(path.join(workspace, 'parent.py'), PARENT_PY);
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

  uiTest('after activation it serves the function\'s runtime, and a run goes through it with the same result', async () => {
    await workbench.openFile('index.py');
    const served = await nthServer('python3.9', 1);
    assert.ok(fs.statSync(served.folder).isDirectory(), `${served.folder} does not exist`);
    assert.ok(alive(served.pid), `the server ${served.pid} does not run`);
    extensionHost = parentPid(served.pid);
    assert.match(commandLine(served.pid), /fglocal runtime-server --until-stdin-closes --runtime python3\.9/);
    const zygote = served.serving.get('python3.9');
    assert.ok(zygote !== undefined && alive(zygote), channel());
    assert.ok(served.serving.has('fglocal invoke (warm supervisor)'), channel());
    // It built its native launcher (cc is here), in its own folder.
    assert.equal(served.launcher, path.join(served.folder, 'bin', 'fglocal'), channel());
    fs.accessSync(served.launcher, fs.constants.X_OK);
    // The index handler's result is what it always was; the run went through the launcher.
    await workbench.runCommand('FunctionGraph: Run Handler Locally');
    const view = workbench.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame').locator('body');
    await view.getByText('Hello, e2e!').waitFor({ timeout: UI_TIMEOUT });
    assert.match((await view.textContent()) ?? '', /Succeeded[\s\S]*INFO greeting e2e/);
    await workbench.notifications.filter({ hasText: 'running index.handler' }).waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await ranWay('index.handler', VIA_LAUNCHER, 1, served.launcher);
    assert.equal(count(/could not be started/), 0, channel());
    await workbench.screenshot('run-through-runtime-server');
    // The instance was forked by the server's zygote for python3.9.
    assert.equal(await runParent(), zygote);
    await ranWay('parent.handler', VIA_LAUNCHER, 1, served.launcher);
    // The runtime's status item says so.
    await workbench.openFile('index.py');
    const item = workbench.statusBarItem(/python3\.9 · 3\.9\.\d+/);
    await item.waitFor({ timeout: UI_TIMEOUT });
    await item.hover();
    await workbench.page.locator('.monaco-hover, .workbench-hover', { hasText: 'Fast cold starts: on (the runtime server serves python3.9); runs start through its native launcher' }).first().waitFor({ timeout: UI_TIMEOUT });
    await workbench.screenshot('fast-cold-starts-tooltip');
    await workbench.page.mouse.move(0, 0);
  });

  uiTest('a debug session starts its own instance; Start Without Debugging forks it from the server', async () => {
    const served = await nthServer('python3.9', 1);
    const zygote = served.serving.get('python3.9');
    /** Runs parent.py with `start` (no launch.json) and returns the parent pid the Debug Console shows. */
    const parentIn = async (start: () => Promise<void>): Promise<number> => {
      await workbench.openFile('parent.py');
      await workbench.runCommand('Debug Console: Focus on Debug Console View');
      await workbench.page.locator('.part.panel [aria-label^="Clear Console"]').first().click();
      await workbench.page.locator('.repl .monaco-list-row', { hasText: 'Function return' }).first().waitFor({ state: 'detached', timeout: UI_TIMEOUT });
      await workbench.activeEditor.locator('.view-lines').click();
      await start();
      await workbench.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
      await workbench.maximizePanel();
      const text = await workbench.debugConsoleText('Function return', /"parent": \d+/);
      await workbench.restorePanel();
      const pids = [...text.matchAll(/"parent": (\d+)/g)].map((match) => Number(match[1]));
      assert.equal(pids.length, 1, `one run's result in the Debug Console: ${text}`);
      return pids[0]!;
    };
    // Under the debugger (F5) the instance is fglocal's own child, so that debugpy follows it.
    const debugged = await parentIn(() => workbench.page.keyboard.press('F5'));
    assert.ok(debugged > 0 && debugged !== zygote, `a debugged instance came from the zygote ${zygote}`);
    assert.equal(await parentIn(() => workbench.runCommand('Debug: Start Without Debugging')), zygote);
  });

  uiTest('changing fglocal.json\'s runtime replaces the server with one for the new runtime', async () => {
    const configFile = path.join(workspace, 'fglocal.json');
    const original = fs.readFileSync(configFile, 'utf8');
    const old = await nthServer('python3.9', 1);
    try {
      fs.writeFileSync(configFile, original.replace('"python3.9"', '"python3.12"'));
      const served = await nthServer('python3.12', 1);
      assert.notEqual(served.folder, old.folder);
      await eventually('the python3.9 server and its processes to end', () =>
        !alive(old.pid) && [...old.serving.values()].every((pid) => !alive(pid)) && !fs.existsSync(old.folder) ? true : undefined,
      );
      assert.equal(await runParent(), served.serving.get('python3.12'));
    } finally {
      fs.writeFileSync(configFile, original);
    }
    await nthServer('python3.9', 2);
  });

  uiTest('turned off in the settings: no server runs, and runs still work; on again, it is back', async () => {
    const current = await nthServer('python3.9', 2);
    const stopped = count(/Runtime server stopped/);
    await workbench.setBooleanSetting(SETTING, false);
    await eventually('the server to stop', () => (count(/Runtime server stopped/) > stopped && !alive(current.pid) ? true : undefined));
    for (const pid of current.serving.values()) assert.ok(!alive(pid), `pid ${pid} (${commandLine(pid)}) still runs`);
    const children = fs
      .readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name) && alive(Number(name)))
      .filter((name) => {
        try {
          return parentPid(Number(name)) === extensionHost && /runtime-server/.test(commandLine(Number(name)));
        } catch {
          return false;
        }
      });
    assert.deepEqual(children, [], 'a runtime server still runs under the extension host');
    // A terminal opened now gets neither variable (the collection no longer has them).
    assert.deepEqual(await terminalVariables(), ['unset', 'unset']);
    await workbench.runCommand('Terminal: Kill All Terminals');
    const parent = await runParent();
    assert.ok(![...current.serving.values()].includes(parent));
    assert.ok(!/runtime_server|run_zygote/.test(commandLine(parent)), commandLine(parent));
    await ranWay('parent.handler', 'via Python', 1); // the first run without a server
    await workbench.setBooleanSetting(SETTING, true);
    await nthServer('python3.9', 3);
  });

  uiTest('an integrated terminal gets the server\'s folder and launcher; "$FGLOCAL_LAUNCHER" invoke typed there is forked by its zygote', async () => {
    const served = await nthServer('python3.9', 3);
    const zygote = served.serving.get('python3.9');
    assert.ok(zygote !== undefined && served.launcher !== '', channel());
    const [folder, script] = await terminalVariables();
    assert.equal(folder, served.folder);
    // FGLOCAL_LAUNCHER: the extension's script that runs the server's launcher with the tools' environment.
    assert.match(script, /\/fglocal-terminals-[^/]+\/fglocal$/);
    assert.ok(fs.readFileSync(script, 'utf8').includes(`launcher='${served.launcher}'`), fs.readFileSync(script, 'utf8'));
    // What a user types (in the user's environment): the extension's own fglocal, through the warm supervisor.
    const out = path.join(output, 'terminal-invoke.out');
    const err = path.join(output, 'terminal-invoke.err');
    const code = await inNewTerminal(`cd '${workspace}' && "$FGLOCAL_LAUNCHER" invoke parent.handler --event-json '{}' --json > '${out}' 2> '${err}'`);
    assert.equal(code, '0', fs.readFileSync(err, 'utf8'));
    const result = fs.readFileSync(out, 'utf8').replace(/\\"/g, '"');
    assert.equal(Number(/"parent":\s*(\d+)/.exec(result)?.[1]), zygote, `${result}\n${fs.readFileSync(err, 'utf8')}`);
    await workbench.runCommand('Terminal: Kill All Terminals');
  });

  uiTest('the launcher setting off: no launcher, Run goes through Python (same result); on again: the launcher; a launcher gone: Python, said once', async () => {
    const current = await nthServer('python3.9', 3);
    assert.notEqual(current.launcher, '', channel());
    await workbench.setBooleanSetting(LAUNCHER_SETTING, false);
    const without = await nthServer('python3.9', 4);
    assert.equal(without.launcher, '');
    assert.match(commandLine(without.pid), /fglocal runtime-server --until-stdin-closes --no-launcher --runtime python3\.9/);
    await eventually('the server to say it has no launcher', () => (count(/\[info\] runtime server: the native launcher is off: --no-launcher; runs use the tools' Python/) === 1 ? true : undefined));
    assert.equal(await runParent(), without.serving.get('python3.9'));
    await ranWay('parent.handler', 'via Python, through the runtime server', 1); // the first server without a launcher
    await workbench.setBooleanSetting(LAUNCHER_SETTING, true);
    const again = await nthServer('python3.9', 5);
    assert.equal(again.launcher, path.join(again.folder, 'bin', 'fglocal'));
    assert.equal(await runParent(), again.serving.get('python3.9'));
    await ranWay('parent.handler', VIA_LAUNCHER, 1, again.launcher);
    // The launcher gone (ENOENT): the run starts the tools' Python instead, once, and says so.
    fs.rmSync(again.launcher);
    assert.equal(await runParent(), again.serving.get('python3.9'));
    await ranWay('parent.handler', VIA_LAUNCHER, 2, again.launcher); // one "Running" line for the run
    const fallback = new RegExp(`The runtime server's launcher ${again.launcher} could not be started \\(ENOENT\\); Running parent\\.handler with \\S+ via Python instead: \\S+ -m fglocal invoke parent\\.handler `);
    await eventually('the fallback warning', () => (count(fallback) === 1 ? true : undefined));
  });

  uiTest('killing the extension host leaves no runtime server, zygote or supervisor behind', async () => {
    const current = await nthServer('python3.9', 5);
    const pids = [current.pid, ...current.serving.values()];
    for (const pid of pids) assert.ok(alive(pid), `pid ${pid} does not run`);
    const host = parentPid(current.pid);
    process.kill(host, 'SIGKILL');
    await eventually('every process of the server to end', () => (pids.every((pid) => !alive(pid)) ? true : undefined));
    await eventually(`${current.folder} to be removed`, () => (!fs.existsSync(current.folder) ? true : undefined));
  });
});
