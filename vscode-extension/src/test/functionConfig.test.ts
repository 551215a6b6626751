import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  candidateEntries,
  definesFunction,
  fileForEntry,
  findConfigFile,
  FunctionConfigError,
  handlerForFile,
  handlerShapedFunctions,
  isEmptyLaunch,
  launchConfiguration,
  locateFunction,
  moduleForFile,
  parseFunctionConfig,
} from '../functionConfig';

let root: string;

function write(relative: string, text: string): string {
  const file = path.join(root, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

before(() => {
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fg-config-')));
  write('ws/fn/fglocal.json', JSON.stringify({ handler: 'main.entry', runtime: 'python3.10', initializer: 'main.init' }));
  write('ws/fn/main.py', 'def entry(event, context):\n    return 1\n');
  write('ws/fn/lib/helpers.py', 'def handler(event, context):\n    pass\n');
  write('ws/src-fn/fglocal.json', JSON.stringify({ codeUri: 'src' }));
  write('ws/src-fn/src/index.py', 'def handler(event, context):\n    pass\n');
  write('ws/plain/index.py', 'def handler(event, context):\n    pass\n');
  write('ws/broken/fglocal.json', '{"handler": "index.handler",}');
  write('ws/badentry/fglocal.json', '{"handler": "index"}');
  write('ws/badcode/fglocal.json', '{"codeUri": "nope"}');
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('finding the function config', () => {
  test('the nearest fglocal.json above a file is found', () => {
    assert.equal(findConfigFile(path.join(root, 'ws/fn/lib'), path.join(root, 'ws')), path.join(root, 'ws/fn/fglocal.json'));
  });

  test('the search stops at the workspace folder', () => {
    write('fglocal.json', '{}');
    try {
      assert.equal(findConfigFile(path.join(root, 'ws/plain'), path.join(root, 'ws')), undefined);
      assert.equal(findConfigFile(path.join(root, 'ws/plain')), path.join(root, 'fglocal.json'));
    } finally {
      fs.rmSync(path.join(root, 'fglocal.json'));
    }
  });
});

describe('locateFunction', () => {
  test('config values are read; the function folder is where fglocal.json is', () => {
    const fn = locateFunction(path.join(root, 'ws/fn/lib/helpers.py'), path.join(root, 'ws'));
    assert.equal(fn.functionDir, path.join(root, 'ws/fn'));
    assert.equal(fn.codeRoot, path.join(root, 'ws/fn'));
    assert.equal(fn.handler, 'main.entry');
    assert.equal(fn.initializer, 'main.init');
    assert.equal(fn.runtime, 'python3.10');
    assert.equal(fn.runtimeSource, 'config');
  });

  test('without a config file the function folder is the nearest one holding the handler module', () => {
    write('ws/multi/fn-a/index.py', 'def handler(event, context):\n    pass\n');
    write('ws/multi/fn-a/lib/util.py', 'x = 1\n');
    write('ws/multi/notes/readme.py', 'x = 1\n');
    assert.equal(locateFunction(path.join(root, 'ws/multi/fn-a/lib/util.py'), path.join(root, 'ws')).functionDir, path.join(root, 'ws/multi/fn-a'));
    // No handler module anywhere up to the workspace folder: the workspace folder.
    assert.equal(locateFunction(path.join(root, 'ws/multi/notes/readme.py'), path.join(root, 'ws')).functionDir, path.join(root, 'ws'));
    // A handler setting changes which module counts.
    write('ws/multi/fn-b/main.py', 'def run(event, context):\n    pass\n');
    write('ws/multi/fn-b/sub/x.py', '');
    assert.equal(locateFunction(path.join(root, 'ws/multi/fn-b/sub/x.py'), path.join(root, 'ws'), { handler: 'main.run' }).functionDir, path.join(root, 'ws/multi/fn-b'));
  });

  test('without a config file the defaults apply to the file\'s folder', () => {
    const fn = locateFunction(path.join(root, 'ws/plain/index.py'), path.join(root, 'ws'));
    assert.equal(fn.functionDir, path.join(root, 'ws/plain'));
    assert.equal(fn.configFile, undefined);
    assert.equal(fn.handler, 'index.handler');
    assert.equal(fn.runtime, 'python3.9');
    assert.equal(fn.runtimeSource, 'default');
  });

  test('settings override the config; empty settings do not', () => {
    const fn = locateFunction(path.join(root, 'ws/fn'), path.join(root, 'ws'), { handler: 'other.h', runtime: 'python3.12', initializer: '' });
    assert.equal(fn.handler, 'other.h');
    assert.equal(fn.runtime, 'python3.12');
    assert.equal(fn.runtimeSource, 'setting');
    assert.equal(fn.initializer, 'main.init');
  });

  test('codeUri moves the code root', () => {
    const fn = locateFunction(path.join(root, 'ws/src-fn/src/index.py'), path.join(root, 'ws'));
    assert.equal(fn.functionDir, path.join(root, 'ws/src-fn'));
    assert.equal(fn.codeRoot, path.join(root, 'ws/src-fn/src'));
  });

  test('a broken config names the file and what is wrong', () => {
    assert.throws(() => locateFunction(path.join(root, 'ws/broken'), path.join(root, 'ws')), (error: unknown) => {
      assert.ok(error instanceof FunctionConfigError);
      assert.equal(error.file, path.join(root, 'ws/broken/fglocal.json'));
      assert.match(error.message, /fglocal\.json: not valid JSON/);
      return true;
    });
    assert.throws(() => locateFunction(path.join(root, 'ws/badentry'), path.join(root, 'ws')), /"handler" must look like "index.handler", not "index"/);
    assert.throws(() => locateFunction(path.join(root, 'ws/badcode'), path.join(root, 'ws')), /"codeUri" points to .*nope, which is not a folder/);
  });

  test('wrong types and unknown runtimes are refused', () => {
    assert.throws(() => parseFunctionConfig('{"runtime": "python3.8"}', 'f.json'), /"runtime" must be one of python2.7, .*python3.12/);
    assert.throws(() => parseFunctionConfig('{"handler": 3}', 'f.json'), /"handler" must be a string/);
    assert.throws(() => parseFunctionConfig('[]', 'f.json'), /must hold a JSON object/);
    assert.deepEqual(parseFunctionConfig('{"initializer": null, "memorySize": 256}', 'f.json'), {});
  });
});

describe('entries and files', () => {
  test('module paths of files under the code root', () => {
    assert.equal(moduleForFile('/f', '/f/index.py'), 'index');
    assert.equal(moduleForFile('/f', '/f/pkg/mod.py'), 'pkg.mod');
    assert.equal(moduleForFile('/f', '/g/index.py'), undefined);
    assert.equal(moduleForFile('/f', '/f/my-file.py'), undefined);
    assert.equal(moduleForFile('/f', '/f/notes.txt'), undefined);
    assert.equal(fileForEntry('/f', 'pkg.mod.handler'), '/f/pkg/mod.py');
  });

  test('an entry whose module is a package lives in its __init__.py, as fglocal and the language server find it', () => {
    const init = write('ws/pk/pkg/__init__.py', 'def handler(event, context):\n    return 1\n');
    write('ws/pk/fglocal.json', '{"handler": "pkg.handler"}');
    const codeRoot = path.join(root, 'ws/pk');
    assert.equal(moduleForFile(codeRoot, init), 'pkg');
    assert.equal(fileForEntry(codeRoot, 'pkg.handler'), init);
    assert.equal(fileForEntry(codeRoot, 'nothere.handler'), path.join(codeRoot, 'nothere.py'), 'missing: the usual file');
    const fn = locateFunction(init, path.join(root, 'ws'));
    assert.equal(handlerForFile(fn, init, fs.readFileSync(init, 'utf8')), 'pkg.handler');
    // Without a config file, the folder whose package holds the handler is the function's.
    const other = write('ws/pk2/pkg/__init__.py', 'def handler(event, context):\n    return 1\n');
    assert.equal(locateFunction(other, path.join(root, 'ws'), { handler: 'pkg.handler' }).functionDir, path.join(root, 'ws/pk2'));
  });

  test('top-level function definitions are recognised', () => {
    assert.ok(definesFunction('import os\n\ndef handler(event, context):\n', 'handler'));
    assert.ok(definesFunction('async def handler (e, c):', 'handler'));
    assert.ok(!definesFunction('    def handler(self, e, c):', 'handler'));
    assert.ok(!definesFunction('def handler_two(e, c):', 'handler'));
  });

  test('the handler for a file: configured one when it lives there, else the file\'s own handler', () => {
    const fn = locateFunction(path.join(root, 'ws/fn'), path.join(root, 'ws'));
    assert.equal(handlerForFile(fn, path.join(root, 'ws/fn/main.py'), 'def entry(e, c): pass'), 'main.entry');
    assert.equal(handlerForFile(fn, path.join(root, 'ws/fn/lib/helpers.py'), 'def handler(event, context):\n'), 'lib.helpers.handler');
    assert.equal(handlerForFile(fn, path.join(root, 'ws/fn/lib/helpers.py'), 'x = 1\n'), 'main.entry');
  });
});

describe('entries inferred as the language server infers them', () => {
  test('handler-shaped functions', () => {
    const source = 'def handler(event, context):\n  pass\nasync def main_handler(req, ctx): pass\ndef helper(a, context): pass\ndef h(evt, c=1): pass\n  def inner(event, context): pass\n';
    assert.deepEqual(handlerShapedFunctions(source), ['handler', 'main_handler', 'h']);
  });

  test('a folder without index.py and without config: its handler module is the function', () => {
    write('ws/rds/startrds.py', 'def handler(event, context):\n    return 1\n');
    write('ws/rds/util.py', 'def add(a, b):\n    return a + b\n');
    const fn = locateFunction(path.join(root, 'ws/rds/util.py'), path.join(root, 'ws'));
    assert.equal(fn.functionDir, path.join(root, 'ws/rds'));
    assert.equal(fn.handler, 'startrds.handler');
    assert.deepEqual(candidateEntries(path.join(root, 'ws/rds')), ['startrds.handler']);
    write('ws/rds/index.py', 'def handler(event, context):\n    return 1\n');
    assert.deepEqual(candidateEntries(path.join(root, 'ws/rds')), ['index.handler']);
    fs.rmSync(path.join(root, 'ws/rds/index.py'));
  });

  test('a file without `handler` runs its handler-shaped function', () => {
    const fn = locateFunction(path.join(root, 'ws/fn/main.py'), path.join(root, 'ws'));
    assert.equal(handlerForFile(fn, path.join(root, 'ws/fn/lib/helpers.py'), 'def on_timer(event, ctx):\n'), 'lib.helpers.on_timer');
  });
});

describe('launch configurations', () => {
  test('F5 without launch.json sends an empty configuration', () => {
    assert.ok(isEmptyLaunch({}));
    assert.ok(!isEmptyLaunch({ type: 'functiongraph', request: 'launch', name: 'x' }));
  });

  test('a generated configuration names the handler, the function folder and the event', () => {
    const fn = locateFunction(path.join(root, 'ws/fn'), path.join(root, 'ws'));
    assert.deepEqual(launchConfiguration(fn, 'main.entry', '/e.json'), {
      type: 'functiongraph',
      request: 'launch',
      name: 'FunctionGraph: main.entry',
      handler: 'main.entry',
      codeUri: path.join(root, 'ws/fn'),
      eventFile: '/e.json',
    });
  });
});
