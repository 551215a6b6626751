// Runs a bundled tool (`python -m fglocal ...`) to completion, cancellably, leaving no process behind.
import { spawn } from 'node:child_process';

export interface ToolRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly cancelled: boolean;
}

export interface ToolOptions {
  readonly cwd: string;
  readonly env: Record<string, string>;
  /** Aborting kills the tool's whole process group. */
  readonly signal?: AbortSignal;
  /** Called with stderr text as it arrives (progress, the function's own output). */
  readonly onStderr?: (text: string) => void;
  /** Text for the tool's standard input. */
  readonly input?: string;
}

/** Runs `python args...` and collects its output. */
export function runTool(python: string, args: readonly string[], options: ToolOptions): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [...args], {
      cwd: options.cwd,
      env: options.env,
      detached: process.platform !== 'win32', // own process group, so cancelling ends its children too
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let cancelled = false;
    const kill = (): void => {
      cancelled = true;
      try {
        if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // already gone
      }
    };
    options.signal?.addEventListener('abort', kill, { once: true });
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderr += text;
      options.onStderr?.(text);
    });
    child.on('error', (error) => {
      options.signal?.removeEventListener('abort', kill);
      reject(error);
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', kill);
      resolve({ code, signal, stdout, stderr, cancelled });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The last meaningful line of a tool's error output (its "what to fix" message). */
export function lastErrorLine(stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  return lines[lines.length - 1] ?? '';
}

/** The JSON value on the last line of a tool's stdout (`--json` output); undefined when there is none. */
export function lastJsonLine(stdout: string): unknown {
  try {
    return JSON.parse(stdout.trim().split(/\r?\n/).pop() ?? '') as unknown;
  } catch {
    return undefined;
  }
}
