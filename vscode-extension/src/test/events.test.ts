import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { checkEventText, listEventFiles, newEventFile, parseTriggerList } from '../events';

describe('test event files', () => {
  test('events/*.json are listed by name; other files and hidden ones (the sync record) are not', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-events-'));
    try {
      assert.deepEqual(listEventFiles(dir), []);
      fs.mkdirSync(path.join(dir, 'events', 'nested.json'), { recursive: true });
      for (const name of ['timer.json', 'apig.json', 'notes.txt', '.fglocal-sync.json', '.apig.json.tmp']) fs.writeFileSync(path.join(dir, 'events', name), '{}');
      assert.deepEqual(listEventFiles(dir), [path.join(dir, 'events', 'apig.json'), path.join(dir, 'events', 'timer.json')]);
      assert.equal(newEventFile(dir, 'apig'), path.join(dir, 'events', 'apig-2.json'));
      assert.equal(newEventFile(dir, 'obs'), path.join(dir, 'events', 'obs.json'));
      assert.equal(newEventFile(dir, 'dms kafka!'), path.join(dir, 'events', 'dms-kafka.json'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('valid JSON passes; broken JSON says what and on which line', () => {
    assert.deepEqual(checkEventText('{"a": 1}'), { ok: true });
    assert.deepEqual(checkEventText('"just a string"'), { ok: true });
    const broken = checkEventText('{\n  "a": 1,\n  "b": \n}');
    assert.equal(broken.ok, false);
    assert.ok(!broken.ok && broken.line === 4 && broken.message === 'value expected on line 4', JSON.stringify(broken));
    const trailing = checkEventText('{"a": 1,}');
    assert.ok(!trailing.ok && trailing.line === 1, JSON.stringify(trailing));
    assert.equal(checkEventText('{"a": 1} // note').ok, false);
    const empty = checkEventText('  \n');
    assert.ok(!empty.ok && /empty/.test(empty.message));
  });
});

describe('fglocal event list output', () => {
  test('one template per line, name first', () => {
    const templates = parseTriggerList('Available templates:\n  apig        API Gateway request\n  obs - OBS object created\ntimer\n');
    assert.deepEqual(templates, [
      { name: 'apig', description: 'API Gateway request' },
      { name: 'obs', description: 'OBS object created' },
      { name: 'timer', description: '' },
    ]);
  });

  test('JSON lists of names or objects', () => {
    assert.deepEqual(parseTriggerList('["apig", "timer"]').map((t) => t.name), ['apig', 'timer']);
    assert.deepEqual(parseTriggerList('[{"name": "smn", "description": "SMN message"}, {"x": 1}]'), [{ name: 'smn', description: 'SMN message' }]);
  });
});
