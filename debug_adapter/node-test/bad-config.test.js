// A bad launch configuration is answered with an error the user can act on (DebugClient).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { DebugClient } = require('@vscode/debugadapter-testsupport');

const REPO = path.resolve(__dirname, '..', '..');
const PYTHON = process.env.PYTHON || path.join(REPO, '.venv', 'bin', 'python');
const HELLO = path.join(REPO, 'tests', 'fixtures', 'debug', 'hello');

let dc;

before(async () => {
  dc = new DebugClient(PYTHON, '-mdebug_adapter', 'functiongraph', {
    cwd: REPO,
    env: { ...process.env, PYTHONPATH: REPO },
  });
  dc.defaultTimeout = 90000;
  await dc.start();
});

after(async () => {
  await dc.stop();
});

test('unknown handler entry is refused with what to fix', async () => {
  await dc.initializeRequest();
  await assert.rejects(dc.launch({ codeUri: HELLO, handler: 'index.nope' }), (error) => {
    assert.match(error.message, /defines no function 'nope'/);
    return true;
  });
});
