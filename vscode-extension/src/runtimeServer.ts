// The lifecycle of `fglocal runtime-server` (fast cold starts, Linux only): started in the background
// for the workspace's runtimes, ready at its `set ` line (with its native launcher when it printed a
// FGLOCAL_LAUNCHER line), replaced (debounced) when what it should serve
// changes, restarted with backoff when it ends on its own and left off after repeated failures, stopped
// on request. It never outlives VS Code: it runs with `--until-stdin-closes`, and only this process holds
// its stdin. No VS Code API here: unit-tested with the real server.
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { parseFunctionPython } from './functionPython';
import { runTool } from './tool';

export const ENV_VARIABLE = 'FGLOCAL_RUNTIME_SERVER';
/** The name of the line with the native launcher's path (a line of output, never an environment variable). */
export const LAUNCHER_LINE = 'FGLOCAL_LAUNCHER';
/** Unexpected ends in a row after which the server is left off (until what it serves changes). */
export const MAX_FAILURES = 3;

/** What to run the server with: the tools' interpreter, its environment and the runtimes to serve. */
export interface ServerSpec {
  readonly python: string;
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly runtimes: readonly string[];
  /** Build the native launcher (the default); false starts the server with --no-launcher. */
  readonly launcher?: boolean;
}

export type ServerStatus =
  | { readonly kind: 'off'; readonly reason: string }
  | { readonly kind: 'starting'; readonly runtimes: readonly string[] }
  | { readonly kind: 'ready'; readonly runtimes: readonly string[]; readonly folder: string; readonly launcher?: string }
  | { readonly kind: 'failed'; readonly message: string };

export interface ServerLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface ServerTimings {
  /** Wait after a change before acting on it (several file events for one save are one change). */
  readonly debounceMs: number;
  /** The first restart's delay after an unexpected end; doubled for each further one. */
  readonly backoffMs: number;
  /** Ready this long, and the failures so far are forgotten. */
  readonly stableMs: number;
  /** How long stop() waits for the server to end after closing its stdin before killing it. */
  readonly stopMs: number;
}

/** The server's stderr line saying it runs without its native launcher, and why (no C compiler, --no-launcher…). */
const LAUNCHER_OFF = /^fglocal runtime-server: the native launcher is off: /;

const DEFAULT_TIMINGS: ServerTimings = { debounceMs: 500, backoffMs: 2000, stableMs: 60_000, stopMs: 5000 };

/** The server's native launcher: a `fglocal` that takes fglocal's arguments and starts in about a millisecond. */
export interface Launcher {
  /** Its absolute path (in the server's private folder: it exists while the server runs). */
  readonly program: string;
  /** The interpreter the server runs with: the launcher's own fallback and its token are that one's. */
  readonly python: string;
}

/**
 * A use of the server by one run: its environment additions, its launcher (when it built one), and
 * the call that ends the use. Until then the server, and so its folder and launcher, stay.
 */
export interface Lease {
  readonly env: Record<string, string>;
  readonly launcher?: Launcher;
  release(): void;
}

/** The command line after the interpreter. */
export function serverArgs(runtimes: readonly string[], launcher = true): string[] {
  const options = launcher ? [] : ['--no-launcher'];
  return ['-m', 'fglocal', 'runtime-server', '--until-stdin-closes', ...options, ...runtimes.flatMap((runtime) => ['--runtime', runtime])];
}

/** The runtimes fglocal finds a Python for, and the others with fglocal's reason. */
export interface Servable {
  readonly runtimes: string[];
  readonly missing: Array<{ readonly runtime: string; readonly message: string }>;
}

/**
 * Which of `runtimes` the server can serve: asks `fglocal python --runtime R` (the resolution the
 * server does, from the same folder and environment) for each, since the server refuses to start when
 * one named runtime has no Python. When fglocal cannot be asked at all, every runtime is kept: the
 * server's own start reports the problem.
 */
export async function findServable(python: string, cwd: string, env: Record<string, string>, runtimes: readonly string[]): Promise<Servable> {
  const found: Servable = { runtimes: [], missing: [] };
  const answers = await Promise.all(
    runtimes.map(async (runtime) => {
      try {
        const run = await runTool(python, ['-m', 'fglocal', 'python', '--runtime', runtime, '--json'], { cwd, env });
        return { runtime, answer: parseFunctionPython(run.code, run.stdout, run.stderr), asked: run.code === 0 || run.code === 2 };
      } catch {
        return { runtime, answer: undefined, asked: false };
      }
    }),
  );
  for (const { runtime, answer, asked } of answers) {
    if (answer === undefined || answer.ok || !asked) found.runtimes.push(runtime);
    else found.missing.push({ runtime, message: answer.message });
  }
  return found;
}

export type ServerLine =
  | { readonly kind: 'folder'; readonly folder: string }
  | { readonly kind: 'launcher'; readonly launcher: string }
  | { readonly kind: 'serving'; readonly text: string }
  | { readonly kind: 'ready' }
  | { readonly kind: 'other'; readonly text: string };

/**
 * One line of the server's stdout: its folder, its native launcher (an absolute path; anything else
 * is no launcher), a runtime it serves, or the final "set ..." line.
 */
export function parseServerLine(line: string): ServerLine {
  if (line.startsWith(`${ENV_VARIABLE}=`)) return { kind: 'folder', folder: line.slice(ENV_VARIABLE.length + 1) };
  if (line.startsWith(`${LAUNCHER_LINE}=`)) {
    const launcher = line.slice(LAUNCHER_LINE.length + 1);
    return path.isAbsolute(launcher) ? { kind: 'launcher', launcher } : { kind: 'other', text: line };
  }
  if (line.startsWith('serving ')) return { kind: 'serving', text: line };
  if (line.startsWith('set ')) return { kind: 'ready' };
  return { kind: 'other', text: line };
}

/** The tooltip line on fast cold starts for a function of `runtime`. */
export function fastStartsText(status: ServerStatus, runtime: string): string {
  switch (status.kind) {
    case 'ready':
      if (!status.runtimes.includes(runtime)) return `Fast cold starts: on for ${status.runtimes.join(', ')}; ${runtime} starts a new interpreter per cold start`;
      return status.launcher
        ? `Fast cold starts: on (the runtime server serves ${runtime}); runs start through its native launcher`
        : `Fast cold starts: on (the runtime server serves ${runtime}); runs start the tools' Python (no native launcher)`;
    case 'starting':
      return `Fast cold starts: starting the runtime server for ${status.runtimes.join(', ')}…`;
    case 'failed':
      return `Fast cold starts: off (${status.message})`;
    case 'off':
      return `Fast cold starts: off (${status.reason})`;
  }
}

function specKey(spec: ServerSpec): string {
  return JSON.stringify([spec.python, spec.cwd, [...spec.runtimes].sort(), Object.entries(spec.env).sort(), spec.launcher !== false]);
}

/** One server process. */
class ServerProcess {
  folder = '';
  launcher = '';
  ready = false;
  readyAt = 0;
  users = 0;
  retired = false;
  exited = false;
  lastError = '';
  readonly ended: Promise<void>;
  private resolveEnded!: () => void;

  constructor(
    readonly spec: ServerSpec,
    readonly child: ChildProcess,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  markEnded(): void {
    this.exited = true;
    this.resolveEnded();
  }

  /** Close its stdin: the server stops its zygotes and exits. */
  closeStdin(): void {
    try {
      this.child.stdin?.end();
      this.child.stdin?.destroy();
    } catch {
      // already closed
    }
  }

  kill(): void {
    try {
      if (this.child.pid !== undefined) process.kill(this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The runtime server of one window: at most one current process (and retired ones finishing runs). */
export class RuntimeServer {
  private current: ServerProcess | undefined;
  private readonly retired = new Set<ServerProcess>();
  private wanted: ServerSpec | undefined;
  private wantedKey = '';
  private offReason = 'not started yet';
  private failures = 0;
  private failedMessage: string | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private backoff: NodeJS.Timeout | undefined;
  private disposed = false;
  private readonly listeners = new Set<() => void>();
  private readonly timings: ServerTimings;

  constructor(
    private readonly log: ServerLog,
    timings: Partial<ServerTimings> = {},
  ) {
    this.timings = { ...DEFAULT_TIMINGS, ...timings };
  }

  /** Calls `listener` whenever status() may have changed. */
  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  status(): ServerStatus {
    if (this.failedMessage !== undefined) return { kind: 'failed', message: this.failedMessage };
    const current = this.current;
    if (current === undefined) {
      if (this.wanted !== undefined) return { kind: 'starting', runtimes: this.wanted.runtimes };
      return { kind: 'off', reason: this.offReason };
    }
    if (current.ready) return { kind: 'ready', runtimes: current.spec.runtimes, folder: current.folder, ...(current.launcher !== '' ? { launcher: current.launcher } : {}) };
    return { kind: 'starting', runtimes: current.spec.runtimes };
  }

  /**
   * What the server should serve from now on (after the debounce): `spec`, or nothing (`undefined`,
   * `reason` says why). The same spec again changes nothing; another one replaces the server.
   */
  update(spec: ServerSpec | undefined, reason = 'off'): void {
    if (this.disposed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.apply(spec, reason), this.timings.debounceMs);
  }

  private apply(spec: ServerSpec | undefined, reason: string): void {
    if (spec !== undefined && spec.runtimes.length === 0) {
      spec = undefined;
      reason = 'no function in this workspace';
    }
    const key = spec === undefined ? '' : specKey(spec);
    if (key === this.wantedKey) {
      if (spec === undefined && this.offReason !== reason) {
        this.offReason = reason;
        this.changed();
      }
      return;
    }
    this.wanted = spec;
    this.wantedKey = key;
    this.failures = 0;
    this.failedMessage = undefined;
    clearTimeout(this.backoff);
    this.backoff = undefined;
    const old = this.current;
    this.current = undefined;
    if (old !== undefined) {
      const why = spec === undefined ? reason : `now serving ${spec.runtimes.join(', ')}`;
      this.log.info(`Stopping the runtime server${old.folder ? ` ${old.folder}` : ''} (${why})`);
      this.retire(old);
    }
    if (spec === undefined) {
      this.offReason = reason;
      this.changed();
      return;
    }
    this.start(spec);
  }

  private start(spec: ServerSpec): void {
    const args = serverArgs(spec.runtimes, spec.launcher !== false);
    this.log.info(`Starting the runtime server for ${spec.runtimes.join(', ')} (fast cold starts): ${spec.python} ${args.join(' ')}`);
    const child = spawn(spec.python, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: process.platform !== 'win32', // its own process group: only its stdin ends it with us
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(spec, child);
    this.current = server;
    child.stdin?.on('error', () => undefined); // EPIPE when it has ended: the exit handler reports it
    // Decoded as a stream: a character split between two chunks (a non-ASCII folder) stays whole.
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    let stdout = '';
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
      let newline: number;
      while ((newline = stdout.indexOf('\n')) >= 0) {
        this.onLine(server, stdout.slice(0, newline).replace(/\r$/, ''));
        stdout = stdout.slice(newline + 1);
      }
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
      let newline: number;
      while ((newline = stderr.indexOf('\n')) >= 0) {
        const line = stderr.slice(0, newline).trim();
        stderr = stderr.slice(newline + 1);
        if (line === '') continue;
        if (LAUNCHER_OFF.test(line)) {
          // Not a failure: runs start the tools' Python instead (still through the server).
          this.log.info(`runtime server: ${line.replace(/^fglocal runtime-server: /, '')}; runs use the tools' Python`);
          continue;
        }
        server.lastError = line.replace(/^fglocal(?: runtime-server)?: (?:error: )?/, '');
        this.log.warn(`runtime server: ${line}`);
      }
    });
    let reported = false;
    const ended = (code: number | null, signal: NodeJS.Signals | null, error?: Error): void => {
      if (reported) return;
      reported = true;
      server.markEnded();
      this.onExit(server, code, signal, error);
    };
    child.on('error', (error) => ended(null, null, error));
    child.on('exit', (code, signal) => ended(code, signal));
    this.changed();
  }

  private onLine(server: ServerProcess, line: string): void {
    const parsed = parseServerLine(line);
    if (parsed.kind === 'folder') {
      server.folder = parsed.folder;
    } else if (parsed.kind === 'launcher') {
      server.launcher = parsed.launcher;
    } else if (parsed.kind === 'serving') {
      this.log.info(`runtime server: ${parsed.text}`);
    } else if (parsed.kind === 'ready' && server.folder !== '') {
      server.ready = true;
      server.readyAt = Date.now();
      if (server === this.current) {
        const launcher = server.launcher !== '' ? ` ${LAUNCHER_LINE}=${server.launcher}` : ' (no launcher)';
        this.log.info(`Runtime server ready (${server.spec.runtimes.join(', ')}): ${ENV_VARIABLE}=${server.folder}${launcher}`);
        this.changed();
      }
    } else if (parsed.kind === 'other' && line.trim() !== '') {
      this.log.info(`runtime server: ${line}`);
    }
  }

  private onExit(server: ServerProcess, code: number | null, signal: NodeJS.Signals | null, error?: Error): void {
    this.retired.delete(server);
    if (server !== this.current) {
      this.log.info(`Runtime server stopped${server.folder ? ` (${server.folder})` : ''}`);
      return;
    }
    this.current = undefined;
    if (this.disposed) return;
    const how = error ? error.message : signal ? `signal ${signal}` : `exit code ${String(code)}`;
    const why = server.lastError ? `: ${server.lastError}` : '';
    if (server.ready && Date.now() - server.readyAt >= this.timings.stableMs) this.failures = 0;
    this.failures += 1;
    // Exit code 2 before it was ready: fglocal refused (no Python for a runtime, not Linux 5.3+ or
    // Python 3.9+): starting it again gives the same refusal.
    const refused = !server.ready && code === 2;
    if (refused || this.failures >= MAX_FAILURES) {
      this.failedMessage = refused
        ? `fglocal runtime-server refused to start${why || ` (${how})`}`
        : `the runtime server ended ${this.failures} times (last: ${how}${why})`;
      this.log.error(
        `Fast cold starts are off: ${this.failedMessage}. It is not started again until the functions' runtimes, the interpreter or the setting functiongraph.runtimeServer.enabled change; runs start their instances themselves meanwhile.`,
      );
      this.changed();
      return;
    }
    const delay = this.timings.backoffMs * 2 ** (this.failures - 1);
    this.log.warn(`The runtime server ended unexpectedly (${how}${why}); starting it again in ${Math.round(delay / 1000)} s`);
    this.changed();
    const spec = server.spec;
    this.backoff = setTimeout(() => {
      this.backoff = undefined;
      if (!this.disposed && this.wanted === spec && this.current === undefined) this.start(spec);
    }, delay);
  }

  private retire(server: ServerProcess): void {
    server.retired = true;
    if (server.exited) return;
    this.retired.add(server);
    if (server.users === 0) server.closeStdin();
  }

  /**
   * The environment additions for one run: FGLOCAL_RUNTIME_SERVER while the server is ready, and its
   * launcher when it built one; nothing otherwise. A server replaced meanwhile is kept until every
   * run that got its folder has ended.
   */
  lease(): Lease {
    const server = this.current;
    if (server === undefined || !server.ready || server.exited) return { env: {}, release: () => undefined };
    server.users += 1;
    let released = false;
    return {
      env: { [ENV_VARIABLE]: server.folder },
      ...(server.launcher !== '' ? { launcher: { program: server.launcher, python: server.spec.python } } : {}),
      release: () => {
        if (released) return;
        released = true;
        server.users -= 1;
        if (server.retired && server.users === 0 && !server.exited) server.closeStdin();
      },
    };
  }

  /** Pids of the server processes still running (for tests and diagnostics). */
  pids(): number[] {
    return [this.current, ...this.retired].flatMap((server) => (server && !server.exited && server.child.pid !== undefined ? [server.child.pid] : []));
  }

  /** Stops every server now (runs still using one end with it) and waits until they have ended. */
  async stop(): Promise<void> {
    this.disposed = true;
    clearTimeout(this.debounce);
    clearTimeout(this.backoff);
    const servers = [this.current, ...this.retired].filter((server): server is ServerProcess => server !== undefined && !server.exited);
    if (this.current !== undefined) this.log.info('Stopping the runtime server');
    this.current = undefined;
    for (const server of servers) {
      server.retired = true;
      this.retired.add(server);
      server.closeStdin();
    }
    await Promise.all(
      servers.map(async (server) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.timings.stopMs)));
        await Promise.race([server.ended, late]);
        clearTimeout(timer);
        if (!server.exited) server.kill();
      }),
    );
    this.changed();
  }
}
