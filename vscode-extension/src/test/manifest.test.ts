// Checks that package.json and the sources agree: every contributed command is registered, the
// launch attributes match the debug adapter's schema (when it exists), settings are documented.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';

const root = path.resolve(__dirname, '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const sources = fs
  .readdirSync(path.join(root, 'src'))
  .filter((name) => name.endsWith('.ts'))
  .map((name) => fs.readFileSync(path.join(root, 'src', name), 'utf8'))
  .join('\n');

describe('package.json', () => {
  test('every contributed command is registered by the extension', () => {
    for (const { command } of manifest.contributes.commands as Array<{ command: string }>) {
      assert.ok(sources.includes(`'${command}'`), `${command} is contributed but never registered`);
    }
  });

  test('every menu entry names a contributed command', () => {
    const known = new Set((manifest.contributes.commands as Array<{ command: string }>).map((c) => c.command));
    for (const entries of Object.values(manifest.contributes.menus) as Array<Array<{ command: string }>>) {
      for (const entry of entries) assert.ok(known.has(entry.command), entry.command);
    }
  });

  test('every setting has a description', () => {
    for (const [key, value] of Object.entries(manifest.contributes.configuration.properties) as Array<[string, Record<string, unknown>]>) {
      assert.ok(value.description || value.markdownDescription, `${key} has no description`);
    }
  });

  test('the engine and the API types agree', () => {
    assert.equal(manifest.engines.vscode, '^1.100.0');
    assert.equal(manifest.devDependencies['@types/vscode'], '1.100.0');
  });

  test('the launch attributes are the debug adapter\'s schema', (t) => {
    const schemaFile = path.join(root, '..', 'debug_adapter', 'launch-schema.json');
    if (!fs.existsSync(schemaFile)) {
      t.skip('debug_adapter/launch-schema.json does not exist yet');
      return;
    }
    const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8'));
    const launch = manifest.contributes.debuggers[0].configurationAttributes.launch;
    assert.deepEqual(Object.keys(launch.properties ?? {}).sort(), Object.keys(schema.properties ?? {}).sort(), 'run `make vsix` to regenerate');
  });

  test('the diagnostic codes offered in settings are the server\'s', (t) => {
    const codesFile = path.join(root, '..', 'server', 'analysis', 'diagnostics.py');
    if (!fs.existsSync(codesFile)) {
      t.skip('server/analysis/diagnostics.py does not exist yet');
      return;
    }
    const block = /^CODES = \(([\s\S]*?)^\)/m.exec(fs.readFileSync(codesFile, 'utf8'));
    assert.ok(block?.[1], 'CODES tuple not found in server/analysis/diagnostics.py');
    const serverCodes = [...block[1].matchAll(/"([a-z0-9-]+)"/g)].map((m) => m[1]);
    const offered = manifest.contributes.configuration.properties['functiongraph.diagnostics.disabledCodes'].items.enum;
    assert.deepEqual([...offered].sort(), serverCodes.sort());
  });
});
