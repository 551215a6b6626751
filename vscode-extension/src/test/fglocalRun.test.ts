import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describeWay, fglocalCommand, runFglocal, VIA_LAUNCHER } from '../fglocalRun';
import { ENV_VARIABLE, Lease, RuntimeServer } from '../runtimeServer';
import { lastJsonLine } from '../tool';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const PYTHON = process.env.FG_TEST_PYTHON ?? 'python3';
const ENV: Record<string, string> = {};
for (const [key, value] of Object.entries(process.env)) if (value !== undefined && key !== ENV_VARIABLE) ENV[key] = value;
ENV.PYTHONPATH = REPO;

const INVOKE = ['invoke', 'index.handler', '--code-dir', '/f', '--event', '/f/events/e.json', '--json'];
const NO_SERVER: Lease = { env: {}, release: () => undefined };
const withLauncher = (program: string, python = PYTHON, env: Record<string, string> = { [ENV_VARIABLE]: '/tmp/x' }): Lease => ({ env, launcher: { program, python }, release: () => undefined });

class Recorder {
  readonly lines: string[] = [];
  info = (message: string): void => void this.lines.push(`info ${message}`);
  warn = (message: string): void => void this.lines.push(`warn ${message}`);
}

/** A function whose handler returns its instance's parent pid and the event it got. */
function parentPidFunction(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-run-'));
  fs.writeFileSync(path.join(dir, 'index.py'), 'import os\n\n\ndef handler(event, context):\n    return {"parent": os.getppid(), "event": event}\n');
  fs.writeFileSync(path.join(dir, 'fglocal.json'), JSON.stringify({ handler: 'index.handler', runtime: 'python3.9' }));
  return dir;
}

/** The handler's return value in a run's --json output. */
function returned(stdout: string): { parent: number; event: unknown } {
  const result = lastJsonLine(stdout) as { body?: unknown } | undefined;
  assert.ok(result !== undefined && typeof result.body === 'string', stdout);
  return JSON.parse(result.body) as { parent: number; event: unknown };
}

describe('fglocal command: the launcher for an invoke with a lease that has one, python -m fglocal otherwise', () => {
  test('an invoke with a launcher built for this interpreter runs the launcher with fglocal\'s arguments', () => {
    assert.deepEqual(fglocalCommand(PYTHON, INVOKE, withLauncher('/s/bin/fglocal')), { program: '/s/bin/fglocal', args: INVOKE, via: 'launcher' });
  });

  test('no launcher, another interpreter, or another command: python -m fglocal', () => {
    const python = { program: PYTHON, args: ['-m', 'fglocal', ...INVOKE], via: 'python' };
    assert.deepEqual(fglocalCommand(PYTHON, INVOKE, NO_SERVER), python);
    assert.deepEqual(fglocalCommand(PYTHON, INVOKE, { env: { [ENV_VARIABLE]: '/tmp/x' }, release: () => undefined }), python);
    // The launcher's fallback and the supervisor's token are the server's interpreter's, not this one's.
    assert.deepEqual(fglocalCommand(PYTHON, INVOKE, withLauncher('/s/bin/fglocal', '/other/python3')), python);
    assert.deepEqual(fglocalCommand(PYTHON, ['package', '--code-dir', '/f', '--json'], withLauncher('/s/bin/fglocal')), {
      program: PYTHON,
      args: ['-m', 'fglocal', 'package', '--code-dir', '/f', '--json'],
      via: 'python',
    });
  });

  test('the log says which way it runs', () => {
    const launcher = withLauncher('/s/bin/fglocal');
    assert.equal(describeWay(fglocalCommand(PYTHON, INVOKE, launcher), launcher), VIA_LAUNCHER);
    const served: Lease = { env: { [ENV_VARIABLE]: '/tmp/x' }, release: () => undefined };
    assert.equal(describeWay(fglocalCommand(PYTHON, INVOKE, served), served), 'via Python, through the runtime server');
    assert.equal(describeWay(fglocalCommand(PYTHON, INVOKE, NO_SERVER), NO_SERVER), 'via Python');
  });
});

describe('runFglocal (real processes)', () => {
  let dir = '';
  before(() => {
    dir = parentPidFunction();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const args = (): string[] => ['invoke', '--code-dir', dir, '--event', '-', '--json'];

  for (const [why, code, make] of [
    ['does not exist', 'ENOENT', (): string => path.join(dir, 'no-such-launcher')],
    ['is not executable', 'EACCES', (): string => {
      const file = path.join(dir, 'not-executable');
      fs.writeFileSync(file, '#!/bin/sh\nexit 3\n', { mode: 0o644 });
      return file;
    }],
  ] as const) {
    test(`a launcher that ${why} (${code}): python -m fglocal once, said in the log, nothing lost`, async () => {
      const log = new Recorder();
      const launcher = make();
      const run = await runFglocal(PYTHON, args(), withLauncher(launcher, PYTHON, {}), { cwd: REPO, env: ENV, input: '{"n": 7}' }, log, 'Running index.handler');
      assert.equal(run.code, 0, run.stderr);
      // The event sent on stdin reached the fallback's run whole.
      assert.deepEqual(returned(run.stdout).event, { n: 7 });
      assert.equal(log.lines.length, 2, log.lines.join('\n'));
      assert.equal(log.lines[0], `info Running index.handler ${VIA_LAUNCHER}: ${launcher} ${args().join(' ')}`);
      assert.equal(
        log.lines[1],
        `warn The runtime server's launcher ${launcher} could not be started (${code}); Running index.handler via Python instead: ${PYTHON} -m fglocal ${args().join(' ')}`,
      );
    });
  }

  test('python that cannot be started is the caller\'s error (no retry)', async () => {
    const log = new Recorder();
    await assert.rejects(runFglocal('/no/such/python', args(), NO_SERVER, { cwd: REPO, env: ENV }, log, 'Running'), /ENOENT/);
    assert.equal(log.lines.length, 1);
  });

  test('with a real runtime server: the run goes through its launcher, forked by its zygote, with the same result', async () => {
    const serverLog: string[] = [];
    const server = new RuntimeServer({ info: (line) => serverLog.push(line), warn: (line) => serverLog.push(line), error: (line) => serverLog.push(line) }, { debounceMs: 10 });
    try {
      server.update({ python: PYTHON, cwd: REPO, env: ENV, runtimes: ['python3.9'] });
      const deadline = Date.now() + 120_000;
      while (server.status().kind !== 'ready') {
        if (Date.now() > deadline) throw new Error(`the server did not become ready: ${JSON.stringify(server.status())}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const lease = server.lease();
      assert.ok(lease.launcher !== undefined, 'the server built no launcher (is cc installed?)');
      const log = new Recorder();
      const through = await runFglocal(PYTHON, args(), lease, { cwd: REPO, env: { ...ENV, ...lease.env }, input: '{"n": 1}' }, log, 'Running').finally(() => lease.release());
      assert.equal(through.code, 0, through.stderr);
      assert.deepEqual(log.lines, [`info Running ${VIA_LAUNCHER}: ${lease.launcher.program} ${args().join(' ')}`]);
      const zygote = serverLog.map((line) => /serving python3\.9: .*, pid (\d+)$/.exec(line)?.[1]).find((pid) => pid !== undefined);
      assert.deepEqual(returned(through.stdout), { parent: Number(zygote), event: { n: 1 } }, serverLog.join('\n'));
      // The same run with python -m fglocal through the same server: the same instance parent (the
      // zygote), the same event, the same result shape.
      const second = server.lease();
      const plain = await runFglocal(PYTHON, args(), { env: second.env, release: () => undefined }, { cwd: REPO, env: { ...ENV, ...second.env }, input: '{"n": 1}' }, log, 'Running').finally(() => second.release());
      assert.equal(plain.code, 0, plain.stderr);
      assert.deepEqual(returned(through.stdout), returned(plain.stdout));
      assert.deepEqual(Object.keys(lastJsonLine(through.stdout) as object).sort(), Object.keys(lastJsonLine(plain.stdout) as object).sort());
    } finally {
      await server.stop();
    }
  });
});
