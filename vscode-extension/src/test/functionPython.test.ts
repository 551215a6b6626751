import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  describeSource,
  functionPythonArgs,
  missingPythonMessage,
  parseFunctionPython,
  pythonStatusText,
  setPythonField,
} from '../functionPython';

const FOUND = JSON.stringify({
  runtime: 'python3.9',
  python: { version: '3.9.18', path: '/root/.pyenv/versions/3.9.18/bin/python3.9' },
  source: 'pyenv',
  warnings: [],
});

describe('parseFunctionPython', () => {
  test('reads the interpreter fglocal found', () => {
    const result = parseFunctionPython(0, `${FOUND}\n`, '');
    assert.deepEqual(result, {
      ok: true,
      python: { runtime: 'python3.9', path: '/root/.pyenv/versions/3.9.18/bin/python3.9', version: '3.9.18', source: 'pyenv', warnings: [] },
    });
  });

  test('takes the refusal from the JSON object when there is one', () => {
    const refusal = 'the runtime python3.6 needs Python 3.6, and none was found (looked at: PATH). Install it (pyenv install 3.6)';
    const stdout = JSON.stringify({ runtime: 'python3.6', python: null, source: null, error: refusal, searched: ['PATH'] });
    assert.deepEqual(parseFunctionPython(2, stdout, `fglocal: error: ${refusal}\n`), { ok: false, runtime: 'python3.6', message: refusal });
  });

  test('falls back to the last error line (a config fglocal refuses before resolving)', () => {
    const result = parseFunctionPython(2, '', 'Traceback is not shown\nfglocal: error: fglocal.json: "python" must be a string\n');
    assert.deepEqual(result, { ok: false, runtime: undefined, message: 'fglocal.json: "python" must be a string' });
  });

  test('a zero exit without the object is no success, and says what happened', () => {
    assert.deepEqual(parseFunctionPython(0, 'usage: fglocal ...\n', ''), { ok: false, runtime: undefined, message: 'fglocal python ended with exit code 0' });
    assert.equal(parseFunctionPython(0, JSON.stringify({ runtime: 'python3.9', python: { path: 1 } }), '').ok, false);
  });

  test('keeps warnings (e.g. --any-python)', () => {
    const stdout = JSON.stringify({ runtime: 'python3.6', python: { version: '3.11.7', path: '/usr/bin/python3' }, source: 'any-python', warnings: ['differs', 3] });
    const result = parseFunctionPython(0, stdout, '');
    assert.ok(result.ok);
    assert.deepEqual(result.python.warnings, ['differs']);
  });
});

describe('status text and messages', () => {
  test('the status bar shows the runtime and the full version', () => {
    const result = parseFunctionPython(0, FOUND, '');
    assert.equal(pythonStatusText('python3.9', result), 'python3.9 · 3.9.18');
  });

  test('a missing interpreter and a pending query are shown as such', () => {
    assert.equal(pythonStatusText('python3.6', { ok: false, runtime: 'python3.6', message: 'none' }), '$(warning) python3.6 · no interpreter');
    assert.equal(pythonStatusText('python2.7', undefined), '$(sync~spin) python2.7');
  });

  test('a warning marks the item', () => {
    const result = parseFunctionPython(0, JSON.stringify({ runtime: 'python3.6', python: { version: '3.11.7', path: '/p' }, source: 'any-python', warnings: ['w'] }), '');
    assert.equal(pythonStatusText('python3.6', result), '$(warning) python3.6 · 3.11.7');
  });

  test('the notification names the runtime, the function, the refusal and the fix', () => {
    const message = missingPythonMessage('python3.6', 'hello', 'none was found (pyenv install 3.6)');
    assert.match(message, /python3\.6 \(hello\): none was found \(pyenv install 3\.6\)\. Pick an interpreter/);
  });

  test('sources read as words', () => {
    assert.equal(describeSource('fglocal.json'), '"python" in fglocal.json');
    assert.equal(describeSource('pyenv'), 'found by pyenv');
    assert.equal(describeSource('something-new'), 'something-new');
  });

  test('the query is fglocal python with --json', () => {
    assert.deepEqual(functionPythonArgs('/w/fn'), ['-m', 'fglocal', 'python', '--code-dir', '/w/fn', '--json']);
  });
});

describe('setPythonField', () => {
  test('adds the field and keeps every other field, in order', () => {
    const text = '{\n    "handler": "index.handler",\n    "runtime": "python3.6"\n}\n';
    const updated = setPythonField(text, '/opt/py36/bin/python');
    assert.equal(updated, '{\n    "handler": "index.handler",\n    "runtime": "python3.6",\n    "python": "/opt/py36/bin/python"\n}\n');
  });

  test('replaces an existing value in place and removes it for automatic discovery', () => {
    const text = '{\n  "python": "/old",\n  "runtime": "python2.7"\n}\n';
    assert.deepEqual(JSON.parse(setPythonField(text, '/new')), { python: '/new', runtime: 'python2.7' });
    assert.equal(setPythonField(text, undefined), '{\n  "runtime": "python2.7"\n}\n');
  });

  test('creates the config when there is none', () => {
    assert.equal(setPythonField(undefined, 'python3.9'), '{\n  "python": "python3.9"\n}\n');
  });

  test('refuses to overwrite a file that is not a JSON object', () => {
    assert.throws(() => setPythonField('{"runtime": ', '/p'));
    assert.throws(() => setPythonField('[1, 2]', '/p'), /JSON object/);
  });
});
