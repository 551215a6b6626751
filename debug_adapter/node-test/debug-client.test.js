// Drives `python -m debug_adapter` with Microsoft's own DAP test client (DebugClient from
// @vscode/debugadapter-testsupport), against the real fglocal runtime and the real debugpy.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { DebugClient } = require('@vscode/debugadapter-testsupport');

const REPO = path.resolve(__dirname, '..', '..');
const PYTHON = process.env.PYTHON || path.join(REPO, '.venv', 'bin', 'python');
const HELLO = path.join(REPO, 'tests', 'fixtures', 'debug', 'hello');
const INDEX = path.join(HELLO, 'index.py');
const WAIT = 90000; // generous, for a loaded 2-core machine; never a timing assertion

function markedLine(tag) {
  const lines = fs.readFileSync(INDEX, 'utf8').split('\n');
  const index = lines.findIndex((line) => line.trimEnd().endsWith('# @bp ' + tag));
  assert.ok(index >= 0, 'no @bp ' + tag);
  return index + 1;
}

let dc;

before(async () => {
  // DebugClient spawns `runtime executable`: "-mdebug_adapter" is `python -m debug_adapter`.
  dc = new DebugClient(PYTHON, '-mdebug_adapter', 'functiongraph', {
    cwd: REPO,
    env: { ...process.env, PYTHONPATH: REPO },
  });
  dc.defaultTimeout = WAIT;
  await dc.start();
});

after(async () => {
  await dc.stop();
});

test('stops at a breakpoint in the handler, shows the event, then the result', async () => {
  const line = markedLine('handler');
  const launchArgs = { codeUri: HELLO, handler: 'index.handler', event: { name: 'node' } };
  const stopped = dc.waitForEvent('stopped', WAIT);
  await dc.hitBreakpoint(launchArgs, { path: INDEX, line });

  const threadId = (await stopped).body.threadId;
  const threads = await dc.threadsRequest();
  assert.ok(threads.body.threads.some((t) => t.id === threadId));
  const stack = await dc.stackTraceRequest({ threadId });
  const frame = stack.body.stackFrames[0];
  assert.strictEqual(frame.name, 'handler');
  const scopes = await dc.scopesRequest({ frameId: frame.id });
  const locals = await dc.variablesRequest({ variablesReference: scopes.body.scopes[0].variablesReference });
  const event = locals.body.variables.find((v) => v.name === 'event');
  assert.ok(event && event.value.includes("'node'"), JSON.stringify(locals.body.variables));

  const result = dc.waitForEvent('functiongraph/result', WAIT);
  const terminated = dc.waitForEvent('terminated', WAIT);
  await dc.continueRequest({ threadId });
  const body = (await result).body;
  assert.deepStrictEqual(JSON.parse(body.body), { greeting: 'hello node', ready: false });
  assert.strictEqual(body.error, null);
  await terminated;
});
