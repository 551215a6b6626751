import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import { lastErrorLine, lastJsonLine, runTool } from '../tool';

/** True while `pid` runs; a zombie (killed, waiting for its reaper) counts as ended. */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

describe('runTool (real processes)', () => {
  test('output, exit code and standard input are passed through', async () => {
    const run = await runTool('python3', ['-c', 'import sys; d = sys.stdin.read(); print(d.upper()); sys.stderr.write("warn\\n"); sys.exit(3)'], {
      cwd: process.cwd(),
      env: { ...process.env } as Record<string, string>,
      input: 'event',
    });
    assert.equal(run.code, 3);
    assert.equal(run.stdout.trim(), 'EVENT');
    assert.equal(run.stderr, 'warn\n');
    assert.equal(run.cancelled, false);
  });

  test('aborting kills the tool and the children it started', async () => {
    const abort = new AbortController();
    let childPid = 0;
    let stderrSoFar = '';
    const script = 'import subprocess, sys, time\np = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])\nprint(p.pid, file=sys.stderr, flush=True)\ntime.sleep(600)';
    const run = await runTool('python3', ['-c', script], {
      cwd: process.cwd(),
      env: { ...process.env } as Record<string, string>,
      signal: abort.signal,
      onStderr: (text) => {
        // Other lines may come first (a pyenv shim prints rehash warnings while pip runs elsewhere).
        stderrSoFar += text;
        const pid = /^(\d+)\n/m.exec(stderrSoFar);
        if (pid && !childPid) {
          childPid = Number(pid[1]);
          abort.abort();
        }
      },
    });
    assert.equal(run.cancelled, true);
    assert.ok(childPid > 0);
    // SIGKILL to the group is delivered before kill() returns; the state flips as soon as the
    // kernel has torn the process down, so wait for that rather than for a fixed time.
    for (let i = 0; i < 100_000 && alive(childPid); i += 1) await new Promise((resolve) => setImmediate(resolve));
    assert.ok(!alive(childPid), `child ${childPid} survived`);
  });

  test('the last non-empty error line is the message to show', () => {
    assert.equal(lastErrorLine('Traceback...\n  File x\nfglocal: error: no handler named h in index.py\n\n'), 'fglocal: error: no handler named h in index.py');
    assert.equal(lastErrorLine(''), '');
  });

  test('the --json value is the last line of stdout; anything else is no value', () => {
    assert.deepEqual(lastJsonLine('progress\n{"a": 1}\n'), { a: 1 });
    assert.equal(lastJsonLine('{"a": 1}\nnot json'), undefined);
    assert.equal(lastJsonLine(''), undefined);
  });
});
