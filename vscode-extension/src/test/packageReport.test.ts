import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describePackage, formatBytes, parsePackageReport } from '../packageReport';

describe('fglocal package --json', () => {
  test('the report is read and described', () => {
    const report = parsePackageReport(
      JSON.stringify({
        zip: '/f/dist/hello.zip',
        zipSize: 319,
        unzippedSize: 302,
        files: [{ path: 'index.py', size: 302 }],
        excluded: [{ path: 'events/hello.json', reason: 'test event' }],
        warnings: ['native module'],
        problems: [],
        limits: ['zip <= 40 MB'],
      }),
    );
    assert.ok(report);
    assert.equal(report.files, 1);
    assert.deepEqual(report.warnings, ['native module']);
    assert.deepEqual(describePackage(report), [
      'Packaged /f/dist/hello.zip: 1 files, 319 B (302 B unzipped)',
      '  left out (test event): events/hello.json',
      '  limit: zip <= 40 MB',
    ]);
  });

  test('a refusal keeps its problems; anything else is no report', () => {
    assert.deepEqual(parsePackageReport('{"problems": ["json.py shadows the standard library"]}')?.problems, ['json.py shadows the standard library']);
    assert.equal(parsePackageReport('Traceback ...'), undefined);
    assert.equal(parsePackageReport('{"other": 1}'), undefined);
  });

  test('sizes are readable', () => {
    assert.equal(formatBytes(319), '319 B');
    assert.equal(formatBytes(12_800), '12.5 KB');
    assert.equal(formatBytes(3_355_443), '3.2 MB');
  });
});
