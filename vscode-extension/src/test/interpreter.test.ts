import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  chooseInterpreter,
  describeProblem,
  expandPathSetting,
  isRecentEnough,
  parseProbeOutput,
  probeInterpreter,
} from '../interpreter';

describe('chooseInterpreter', () => {
  test('the setting wins over the Python extension and the default', () => {
    assert.deepEqual(chooseInterpreter('/opt/py/bin/python', ['/venv/bin/python']), { command: ['/opt/py/bin/python'], source: 'setting' });
  });

  test('the Python extension is used when the setting is empty or blank', () => {
    assert.deepEqual(chooseInterpreter('  ', ['/venv/bin/python']), { command: ['/venv/bin/python'], source: 'python-extension' });
    assert.deepEqual(chooseInterpreter(undefined, ['conda', 'run', 'python']).command, ['conda', 'run', 'python']);
  });

  test('python3 from PATH when neither gives one', () => {
    assert.deepEqual(chooseInterpreter('', undefined), { command: ['python3'], source: 'default' });
    assert.deepEqual(chooseInterpreter(undefined, []), { command: ['python3'], source: 'default' });
    assert.deepEqual(chooseInterpreter(undefined, ['']), { command: ['python3'], source: 'default' });
  });

  test('the setting may use ~ and ${workspaceFolder}', () => {
    assert.deepEqual(chooseInterpreter('${workspaceFolder}/.venv/bin/python', undefined, '/w/fn').command, ['/w/fn/.venv/bin/python']);
    assert.equal(expandPathSetting('~/py/bin/python3', undefined, '/home/u'), '/home/u/py/bin/python3');
    assert.equal(expandPathSetting('${userHome}/x', undefined, '/home/u'), '/home/u/x');
    assert.equal(expandPathSetting('~user/x', undefined, '/home/u'), '~user/x');
  });
});

describe('interpreter versions', () => {
  test('3.10 and newer are recent enough, older ones are not', () => {
    assert.ok(isRecentEnough([3, 10, 0]));
    assert.ok(isRecentEnough([3, 12, 1]));
    assert.ok(isRecentEnough([4, 0, 0]));
    assert.ok(!isRecentEnough([3, 9, 18]));
    assert.ok(!isRecentEnough([2, 7, 18]));
  });

  test('probe output is parsed, anything else is rejected', () => {
    assert.deepEqual(parseProbeOutput('{"executable": "/usr/bin/python3", "version": [3, 11, 2]}\n'), {
      executable: '/usr/bin/python3',
      version: [3, 11, 2],
    });
    assert.equal(parseProbeOutput('Python 3.11.2'), undefined);
    assert.equal(parseProbeOutput('{"executable": "/x", "version": [3, "11", 2]}'), undefined);
    assert.equal(parseProbeOutput(''), undefined);
  });
});

describe('probeInterpreter (real processes)', () => {
  test('python3 on this machine is found and new enough', async () => {
    const result = await probeInterpreter(['python3']);
    assert.ok(result.ok, JSON.stringify(result));
    assert.ok(path.isAbsolute(result.info.executable));
  });

  test('a missing interpreter is reported as not found, with the fix', async () => {
    const result = await probeInterpreter(['/nonexistent/python3']);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.problem === 'not-found');
    const message = !result.ok ? describeProblem({ command: ['/nonexistent/python3'], source: 'setting' }, result) : '';
    assert.match(message, /"\/nonexistent\/python3" \(set in "functiongraph.python"\) was not found/);
    assert.match(message, /set "functiongraph.python"/i);
  });

  test('an old interpreter is reported as too old, with its version', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-interp-'));
    const fake = path.join(dir, 'python2');
    fs.writeFileSync(fake, '#!/bin/sh\necho \'{"executable": "/usr/bin/python2.7", "version": [2, 7, 18]}\'\n', { mode: 0o755 });
    try {
      const result = await probeInterpreter([fake]);
      assert.ok(!result.ok && result.problem === 'too-old' && result.detail === '2.7.18', JSON.stringify(result));
      const message = describeProblem({ command: [fake], source: 'default' }, result);
      assert.match(message, /is Python 2\.7\.18/);
      assert.match(message, /needs Python 3\.10 or newer/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an interpreter that fails is reported as broken with its error output', async () => {
    const result = await probeInterpreter(['python3', '-c', 'import sys; sys.exit("boom")', '--']);
    assert.ok(!result.ok && result.problem === 'broken', JSON.stringify(result));
  });
});
