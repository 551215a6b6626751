import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { ENV_VARIABLE, fastStartsText, findServable, MAX_FAILURES, parseServerLine, RuntimeServer, serverArgs, ServerSpec } from '../runtimeServer';
import { applyToTerminals, LAUNCHER_VARIABLE, terminalDescription, TerminalEnvironment, terminalLauncherScript, terminalVariables, writeTerminalLauncher } from '../terminalEnvironment';
import { lastJsonLine, runTool } from '../tool';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const PYTHON = process.env.FG_TEST_PYTHON ?? 'python3';
const ENV: Record<string, string> = {};
for (const [key, value] of Object.entries(process.env)) if (value !== undefined && key !== ENV_VARIABLE) ENV[key] = value;
ENV.PYTHONPATH = REPO;

/** True while `pid` runs; a zombie counts as ended. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits until `condition` holds (the deadline only bounds a hang). */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

class Recorder {
  readonly lines: string[] = [];
  info = (message: string): void => void this.lines.push(`info ${message}`);
  warn = (message: string): void => void this.lines.push(`warn ${message}`);
  error = (message: string): void => void this.lines.push(`error ${message}`);
  count(pattern: RegExp): number {
    return this.lines.filter((line) => pattern.test(line)).length;
  }
  /** The pids of the "serving RUNTIME: ..., pid N" lines logged so far, by runtime. */
  servingPids(): Map<string, number> {
    const pids = new Map<string, number>();
    for (const line of this.lines) {
      const match = /serving (python[\d.]+|fglocal invoke \(warm supervisor\)): .*, pid (\d+)$/.exec(line);
      if (match) pids.set(match[1]!, Number(match[2]));
    }
    return pids;
  }
}

function spec(runtimes: string[], python = PYTHON, launcher?: boolean): ServerSpec {
  return { python, cwd: REPO, env: ENV, runtimes, ...(launcher === undefined ? {} : { launcher }) };
}

const FAST = { debounceMs: 10, backoffMs: 50 };
const servers: RuntimeServer[] = [];
function newServer(log: Recorder, timings: Partial<typeof FAST> = FAST): RuntimeServer {
  const server = new RuntimeServer(log, timings);
  servers.push(server);
  return server;
}
after(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

/** A function folder whose handler returns its instance's parent pid. */
function parentPidFunction(runtime: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-rs-'));
  fs.writeFileSync(path.join(dir, 'index.py'), 'import os\n\n\ndef handler(event, context):\n    return {"parent": os.getppid()}\n');
  fs.writeFileSync(path.join(dir, 'fglocal.json'), JSON.stringify({ handler: 'index.handler', runtime }));
  return dir;
}

/** `fglocal invoke` of the function in `dir`: its instance's parent pid, and whether this process ran it. */
async function parentOfInstance(dir: string, extra: Record<string, string>): Promise<[number, boolean]> {
  const args = ['-X', 'importtime', '-m', 'fglocal', 'invoke', '--code-dir', dir, '--event', '-', '--json'];
  const run = await runTool(PYTHON, args, { cwd: REPO, env: { ...ENV, ...extra }, input: '{}' });
  assert.equal(run.code, 0, run.stderr);
  // Run here, the command imports fglocal's modules in this process; by the warm supervisor, not.
  const ranHere = / fglocal\.config\n/.test(run.stderr);
  const result = lastJsonLine(run.stdout) as { result?: unknown; return?: unknown } | undefined;
  const text = JSON.stringify(result);
  const parent = /"parent":\s*(\d+)/.exec(text.replace(/\\"/g, '"'))?.[1];
  assert.ok(parent, text);
  return [Number(parent), ranHere];
}

describe('runtime server: command line and output', () => {
  test('the command waits for its stdin and names every runtime', () => {
    assert.deepEqual(serverArgs(['python3.9', 'python2.7']), ['-m', 'fglocal', 'runtime-server', '--until-stdin-closes', '--runtime', 'python3.9', '--runtime', 'python2.7']);
    assert.deepEqual(serverArgs(['python3.9'], false), ['-m', 'fglocal', 'runtime-server', '--until-stdin-closes', '--no-launcher', '--runtime', 'python3.9']);
  });

  test('its lines: the folder, what it serves, ready', () => {
    assert.deepEqual(parseServerLine('FGLOCAL_RUNTIME_SERVER=/tmp/fglocal-0/runtime-server-7'), { kind: 'folder', folder: '/tmp/fglocal-0/runtime-server-7' });
    assert.equal(parseServerLine('serving python3.9: Python 3.9.18 (/usr/bin/python3.9), pid 8').kind, 'serving');
    assert.equal(parseServerLine('set FGLOCAL_RUNTIME_SERVER=/tmp/x for fglocal to use it; Ctrl+C stops it').kind, 'ready');
    assert.equal(parseServerLine('something else').kind, 'other');
  });

  test('its launcher line: an absolute path is the launcher, anything else is no launcher', () => {
    assert.deepEqual(parseServerLine('FGLOCAL_LAUNCHER=/tmp/fglocal-0/runtime-server-7/bin/fglocal'), { kind: 'launcher', launcher: '/tmp/fglocal-0/runtime-server-7/bin/fglocal' });
    assert.equal(parseServerLine('FGLOCAL_LAUNCHER=bin/fglocal').kind, 'other');
    assert.equal(parseServerLine('FGLOCAL_LAUNCHER=').kind, 'other');
    // Not mistaken for the folder line (whose name it does not start with), nor the other way round.
    assert.equal(parseServerLine('FGLOCAL_RUNTIME_SERVER=/tmp/x').kind, 'folder');
  });

  test('the tooltip says whether the function gets fast cold starts, and why not', () => {
    const ready = { kind: 'ready', runtimes: ['python3.9'], folder: '/f' } as const;
    assert.equal(fastStartsText(ready, 'python3.9'), "Fast cold starts: on (the runtime server serves python3.9); runs start the tools' Python (no native launcher)");
    assert.equal(fastStartsText({ ...ready, launcher: '/f/bin/fglocal' }, 'python3.9'), 'Fast cold starts: on (the runtime server serves python3.9); runs start through its native launcher');
    assert.match(fastStartsText(ready, 'python2.7'), /python2\.7 starts a new interpreter/);
    assert.match(fastStartsText({ kind: 'off', reason: 'functiongraph.runtimeServer.enabled is off' }, 'python3.9'), /off \(functiongraph\.runtimeServer\.enabled is off\)/);
    assert.match(fastStartsText({ kind: 'failed', message: 'it ended 3 times' }, 'python3.9'), /off \(it ended 3 times\)/);
    assert.match(fastStartsText({ kind: 'starting', runtimes: ['python3.9'] }, 'python3.9'), /starting/);
  });
});

describe('runtime server lifecycle (real fglocal runtime-server)', () => {
  test('ready for its runtimes: runs forked by its zygote; replaced when the runtimes change; stopped with nothing left', async () => {
    const log = new Recorder();
    const server = newServer(log);
    assert.deepEqual(server.lease().env, {}, 'no server yet: runs get nothing');
    server.update(spec(['python3.9']));
    await until(() => server.status().kind === 'ready', 'the server to be ready');
    const status = server.status();
    assert.ok(status.kind === 'ready');
    const folder = status.folder;
    assert.equal(status.launcher, path.join(folder, 'bin', 'fglocal'));
    assert.equal(fs.statSync(folder).mode & 0o777, 0o700);
    const zygote = log.servingPids().get('python3.9');
    assert.ok(zygote !== undefined && alive(zygote), log.lines.join('\n'));
    // A run with the lease's environment is handed to the warm supervisor and its instance is the
    // zygote's child. Without it, neither.
    const lease = server.lease();
    assert.deepEqual(lease.env, { [ENV_VARIABLE]: folder });
    // The server built its native launcher (cc is here): in its folder, executable, for this interpreter.
    assert.deepEqual(lease.launcher, { program: path.join(folder, 'bin', 'fglocal'), python: PYTHON });
    fs.accessSync(lease.launcher.program, fs.constants.X_OK);
    assert.equal(log.count(new RegExp(`^info Runtime server ready \\(python3\\.9\\): ${ENV_VARIABLE}=${folder} FGLOCAL_LAUNCHER=${lease.launcher.program}$`)), 1, log.lines.join('\n'));
    const dir = parentPidFunction('python3.9');
    assert.deepEqual(await parentOfInstance(dir, lease.env), [zygote, false]);
    lease.release();
    const [parent, ranHere] = await parentOfInstance(dir, {});
    assert.notEqual(parent, zygote);
    assert.equal(ranHere, true);
    // The same spec again changes nothing; other runtimes replace the server.
    server.update(spec(['python3.9']));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(log.count(/Starting the runtime server/), 1);
    const [oldPid] = server.pids();
    server.update(spec(['python3.12']));
    await until(() => server.status().kind === 'ready' && (server.status() as { folder?: string }).folder !== folder, 'the new server');
    assert.deepEqual((server.status() as { runtimes?: readonly string[] }).runtimes, ['python3.12']);
    await until(() => oldPid !== undefined && !alive(oldPid) && !alive(zygote) && !fs.existsSync(folder), 'the old server and its zygote to end');
    const pids = [...server.pids(), ...log.servingPids().values()];
    const newFolder = (server.status() as { folder?: string }).folder ?? '';
    await server.stop();
    assert.deepEqual(server.pids(), []);
    for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} still runs`);
    assert.ok(!fs.existsSync(newFolder));
    assert.ok(log.count(/^info Stopping the runtime server/) >= 2, log.lines.join('\n'));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('started with --no-launcher: leases have no launcher, and the server says so without a warning', async () => {
    const log = new Recorder();
    const server = newServer(log);
    server.update(spec(['python3.9'], PYTHON, false));
    await until(() => server.status().kind === 'ready', 'the server to be ready');
    assert.match(log.lines.find((line) => / Starting the runtime server/.test(line)) ?? '', / --no-launcher --runtime python3\.9$/);
    const lease = server.lease();
    assert.equal(lease.env[ENV_VARIABLE], (server.status() as { folder?: string }).folder);
    assert.equal(lease.launcher, undefined);
    lease.release();
    assert.equal(log.count(/^info runtime server: the native launcher is off: --no-launcher; runs use the tools' Python$/), 1, log.lines.join('\n'));
    assert.equal(log.count(/^(warn|error) /), 0, log.lines.join('\n'));
    assert.equal(log.count(/^info Runtime server ready \(python3\.9\): FGLOCAL_RUNTIME_SERVER=\S+ \(no launcher\)$/), 1, log.lines.join('\n'));
    // Turning the launcher on is another spec: the server is replaced by one with a launcher.
    server.update(spec(['python3.9'], PYTHON, true));
    const launcherNow = (): boolean => {
      const next = server.lease();
      next.release();
      return next.launcher !== undefined;
    };
    await until(launcherNow, 'a server with a launcher');
    await server.stop();
  });

  test('a replaced server stays until the runs that got its folder have ended', async () => {
    const log = new Recorder();
    const server = newServer(log);
    server.update(spec(['python3.9']));
    await until(() => server.status().kind === 'ready', 'the server to be ready');
    const lease = server.lease();
    const [first] = server.pids();
    server.update(undefined, 'turned off');
    await until(() => server.status().kind === 'off', 'off');
    assert.deepEqual(server.status(), { kind: 'off', reason: 'turned off' });
    assert.deepEqual(server.lease().env, {}, 'new runs get nothing once it is off');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(first !== undefined && alive(first), 'still in use: kept');
    lease.release();
    await until(() => !alive(first), 'the server to end once released');
  });

  test('an unexpected end restarts it; after repeated failures it stays off with one message', async () => {
    const log = new Recorder();
    const server = newServer(log);
    server.update(spec(['python3.9']));
    await until(() => server.status().kind === 'ready', 'the server to be ready');
    const [pid] = server.pids();
    process.kill(pid!, 'SIGKILL');
    await until(() => log.count(/ended unexpectedly/) === 1, 'the end to be noticed');
    await until(() => server.status().kind === 'ready' && server.pids()[0] !== pid, 'the restarted server');
    await server.stop();
    // An interpreter that cannot run the server: restarted with backoff, then left off.
    const failing = new Recorder();
    const broken = newServer(failing);
    broken.update(spec(['python3.9'], '/bin/false'));
    await until(() => broken.status().kind === 'failed', 'the server to be left off');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(failing.count(/^info Starting the runtime server/), MAX_FAILURES);
    assert.equal(failing.count(/^error /), 1, failing.lines.join('\n'));
    assert.match(failing.lines.find((line) => line.startsWith('error '))!, /ended 3 times \(last: exit code 1\)/);
    // Something else to serve: it tries again.
    broken.update(spec(['python3.12'], '/bin/false'));
    await until(() => failing.count(/^info Starting the runtime server/) > MAX_FAILURES, 'a new attempt');
  });

  test('a refusal (exit code 2) is not retried: one message with fglocal\'s reason', async () => {
    const log = new Recorder();
    const server = newServer(log);
    server.update(spec(['python9.9']));
    await until(() => server.status().kind === 'failed', 'the refusal');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(log.count(/^info Starting the runtime server/), 1);
    assert.equal(log.count(/^error /), 1);
    const status = server.status();
    assert.ok(status.kind === 'failed' && /unknown runtime python9\.9/.test(status.message), JSON.stringify(status));
  });

  test('only runtimes whose Python fglocal finds are served; the others with fglocal\'s reason', async () => {
    const which = await runTool(PYTHON, ['-m', 'fglocal', 'python', '--runtime', 'python3.9', '--json'], { cwd: REPO, env: ENV });
    const python39 = (lastJsonLine(which.stdout) as { python?: { path?: string } } | undefined)?.python?.path;
    assert.ok(python39, which.stderr);
    // FGLOCAL_PYTHON names a 3.9: python3.6 has no Python then (the server would refuse to start).
    const found = await findServable(PYTHON, REPO, { ...ENV, FGLOCAL_PYTHON: python39 }, ['python3.9', 'python3.6']);
    assert.deepEqual(found.runtimes, ['python3.9']);
    assert.equal(found.missing.length, 1);
    assert.equal(found.missing[0]?.runtime, 'python3.6');
    assert.match(found.missing[0]?.message ?? '', /FGLOCAL_PYTHON names Python 3\.9/);
    // fglocal cannot be asked at all: every runtime is kept (the server's start says why).
    assert.deepEqual((await findServable('/no/such/python', REPO, ENV, ['python3.9'])).runtimes, ['python3.9']);
  });

  test('no runtimes: nothing is started', async () => {
    const log = new Recorder();
    const server = newServer(log);
    server.update(spec([]));
    await until(() => JSON.stringify(server.status()).includes('no function'), 'off');
    assert.deepEqual(server.status(), { kind: 'off', reason: 'no function in this workspace' });
    assert.equal(log.lines.length, 0);
  });
});

/** A terminal environment as VS Code keeps one: its variables, and every change made to it. */
class Terminals implements TerminalEnvironment {
  persistent = true;
  description: unknown = undefined;
  readonly variables = new Map<string, string>();
  readonly changes: string[] = [];
  get(variable: string): { readonly value: string } | undefined {
    const value = this.variables.get(variable);
    return value === undefined ? undefined : { value };
  }
  replace(variable: string, value: string): void {
    this.variables.set(variable, value);
    this.changes.push(`replace ${variable}`);
  }
  delete(variable: string): void {
    this.variables.delete(variable);
    this.changes.push(`delete ${variable}`);
  }
  env(): Record<string, string> {
    return Object.fromEntries(this.variables);
  }
}

describe("integrated terminals' environment", () => {
  test('only a ready server gives terminals anything: its folder, and its launcher when it has one', () => {
    assert.deepEqual(terminalVariables({ kind: 'off', reason: 'off' }), {});
    assert.deepEqual(terminalVariables({ kind: 'starting', runtimes: ['python3.9'] }), {});
    assert.deepEqual(terminalVariables({ kind: 'failed', message: 'ended' }), {});
    assert.deepEqual(terminalVariables({ kind: 'ready', runtimes: ['python3.9'], folder: '/f' }), { [ENV_VARIABLE]: '/f' });
    assert.deepEqual(terminalVariables({ kind: 'ready', runtimes: ['python3.9'], folder: '/f', launcher: '/f/bin/fglocal' }), { [ENV_VARIABLE]: '/f' }, 'no script: no launcher variable');
    assert.deepEqual(terminalVariables({ kind: 'ready', runtimes: ['python3.9'], folder: '/f', launcher: '/f/bin/fglocal' }, '/t/fglocal'), { [ENV_VARIABLE]: '/f', [LAUNCHER_VARIABLE]: '/t/fglocal' });
    assert.deepEqual(terminalVariables({ kind: 'ready', runtimes: ['python3.9'], folder: '/f' }, '/t/fglocal'), { [ENV_VARIABLE]: '/f' }, 'a server without a launcher: none');
    assert.equal(LAUNCHER_VARIABLE, 'FGLOCAL_LAUNCHER');
    assert.equal(terminalDescription({}), undefined);
    assert.match(terminalDescription({ [ENV_VARIABLE]: '/f' }) ?? '', /FGLOCAL_RUNTIME_SERVER names this window's runtime server.*functiongraph\.runtimeServer\.terminals/);
    assert.doesNotMatch(terminalDescription({ [ENV_VARIABLE]: '/f' }) ?? '', /FGLOCAL_LAUNCHER/);
    assert.match(terminalDescription({ [ENV_VARIABLE]: '/f', [LAUNCHER_VARIABLE]: '/f/bin/fglocal' }) ?? '', /FGLOCAL_LAUNCHER its native launcher/);
  });

  test('the launcher script quotes what it names, and a launcher gone runs the Python fglocal', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "fg-term-it's "));
    const script = terminalLauncherScript({ program: path.join(folder, "no launcher's here"), python: PYTHON }, [REPO, "/a b'c"]);
    assert.match(script, /^#!\/bin\/sh\n/);
    assert.ok(script.includes(`'${REPO}:/a b'\\''c'`), script);
    const file = writeTerminalLauncher(folder, { program: path.join(folder, "no launcher's here"), python: PYTHON }, [REPO]);
    assert.equal(fs.statSync(file).mode & 0o777, 0o700);
    const userEnv = { ...ENV };
    delete userEnv.PYTHONPATH;
    const run = await runTool(file, ['--version'], { cwd: os.tmpdir(), env: userEnv });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout + run.stderr, /fglocal/);
    fs.rmSync(folder, { recursive: true, force: true });
  });

  test('set while ready (a typed fglocal invoke is forked by the zygote), replaced with the server, cleared when it stops; the stale value runs in full', async () => {
    const log = new Recorder();
    const server = newServer(log);
    const terminals = new Terminals();
    const scripts = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-term-'));
    // As the extension: the launcher script of the current server, if it has a launcher.
    const sync = (enabled = true): void => {
      const lease = server.lease();
      lease.release();
      const script = lease.launcher !== undefined ? writeTerminalLauncher(scripts, lease.launcher, [REPO]) : undefined;
      applyToTerminals(terminals, server.status(), enabled, script);
    };
    server.onDidChange(() => sync());
    sync();
    assert.equal(terminals.persistent, false, 'a folder from an earlier window is dead: never restored');
    assert.deepEqual(terminals.env(), {});
    assert.deepEqual(terminals.changes, [], 'nothing to delete: nothing done');
    // The tools' environment as the extension has it (toolEnvironment: PYTHONUNBUFFERED=1).
    const toolEnv = { ...ENV, PYTHONUNBUFFERED: '1' };
    server.update({ ...spec(['python3.9']), env: toolEnv });
    await until(() => server.status().kind === 'ready', 'the server to be ready');
    const first = server.status();
    assert.ok(first.kind === 'ready' && first.launcher !== undefined);
    const script = path.join(scripts, 'fglocal');
    assert.deepEqual(terminals.env(), { [ENV_VARIABLE]: first.folder, [LAUNCHER_VARIABLE]: script });
    assert.match(String(terminals.description), /runtime server/);
    const zygote = log.servingPids().get('python3.9');
    assert.ok(zygote !== undefined, log.lines.join('\n'));
    // What a terminal gets is enough: in the user's environment (no PYTHONPATH to fglocal), the
    // script's `invoke` is handed to the warm supervisor and forked by the zygote.
    const dir = parentPidFunction('python3.9');
    const userEnv = { ...ENV };
    delete userEnv.PYTHONPATH;
    const viaScript = async (): Promise<string> => {
      const run = await runTool(script, ['invoke', '--code-dir', dir, '--event', '-', '--json'], { cwd: os.tmpdir(), env: { ...userEnv, ...terminals.env() }, input: '{}' });
      assert.equal(run.code, 0, run.stderr);
      return run.stdout.replace(/\\"/g, '"');
    };
    assert.match(await viaScript(), new RegExp(`"parent":\\s*${zygote}\\b`));
    // As `python -m fglocal invoke` with the tools' environment.
    assert.deepEqual(await parentOfInstance(dir, { ...terminals.env(), PYTHONUNBUFFERED: '1' }), [zygote, false]);
    // The same status again changes nothing (open terminals are not asked to relaunch for nothing).
    const before = terminals.changes.length;
    sync();
    assert.equal(terminals.changes.length, before);
    // Turned off for terminals: both gone; on again: back.
    sync(false);
    assert.deepEqual(terminals.env(), {});
    assert.equal(terminals.description, undefined);
    sync(true);
    assert.deepEqual(terminals.env(), { [ENV_VARIABLE]: first.folder, [LAUNCHER_VARIABLE]: script });
    // Replaced without a launcher: the new folder, and no launcher variable left behind.
    server.update(spec(['python3.12'], PYTHON, false));
    await until(() => server.status().kind === 'ready' && (server.status() as { folder?: string }).folder !== first.folder, 'the new server');
    const second = server.status();
    assert.ok(second.kind === 'ready');
    assert.deepEqual(terminals.env(), { [ENV_VARIABLE]: second.folder });
    // Stopped: nothing.
    await server.stop();
    assert.deepEqual(terminals.env(), {});
    assert.equal(terminals.description, undefined);
    // A terminal opened earlier keeps its value: with the folder gone, fglocal runs in full, the same result.
    assert.ok(!fs.existsSync(second.folder));
    const stale = parentPidFunction('python3.12');
    const [parent, ranHere] = await parentOfInstance(stale, { [ENV_VARIABLE]: second.folder });
    assert.ok(parent > 0 && parent !== zygote);
    assert.equal(ranHere, true);
    // And its launcher script, its launcher gone: the same result, in full.
    assert.ok(!fs.existsSync(first.launcher));
    const inFull = await viaScript();
    assert.match(inFull, /"parent":\s*\d+/);
    assert.doesNotMatch(inFull, new RegExp(`"parent":\\s*${zygote}\\b`));
    for (const folder of [dir, stale, scripts]) fs.rmSync(folder, { recursive: true, force: true });
  });
});
