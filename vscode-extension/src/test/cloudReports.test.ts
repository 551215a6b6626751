import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cloudEnvironment, cloudErrorText, conflictMessage, describeDeploy, describeSync, forcedBySync, parseCredentials, parseDeployReport, parseSyncReport } from '../cloudReports';

describe('cloud commands', () => {
  test('credentials become the SDK environment variables, and only when complete', () => {
    const creds = parseCredentials(JSON.stringify({ accessKey: 'AK1', secretKey: 'SK1', projectId: 'p1' }));
    assert.ok(creds);
    const env = cloudEnvironment({ PATH: '/bin', HUAWEICLOUD_SDK_SECURITY_TOKEN: 'stale' }, creds);
    assert.equal(env.HUAWEICLOUD_SDK_AK, 'AK1');
    assert.equal(env.HUAWEICLOUD_SDK_SK, 'SK1');
    assert.equal(env.HUAWEICLOUD_SDK_PROJECT_ID, 'p1');
    assert.equal(env.HUAWEICLOUD_SDK_SECURITY_TOKEN, undefined);
    assert.equal(env.PATH, '/bin');
    assert.equal(parseCredentials('{"accessKey": "AK1"}'), undefined);
    assert.equal(parseCredentials('not json'), undefined);
    assert.deepEqual(cloudEnvironment({ A: '1' }, undefined), { A: '1' });
  });

  test('a deploy report is read and described', () => {
    const report = parseDeployReport(
      JSON.stringify({ functionUrn: 'urn:fss:r:p:function:default:f:latest', created: false, codeUpdated: true, configUpdated: true, changedFields: ['memorySize'], version: '2' }),
    );
    assert.ok(report);
    assert.equal(describeDeploy(report), 'urn:fss:r:p:function:default:f:latest: code uploaded, configuration updated (memorySize), version 2 published');
    assert.equal(parseDeployReport('garbage'), undefined);
  });

  test('errors say what was done and what to do', () => {
    const stdout = JSON.stringify({ functionUrn: 'u', error: { message: 'updating: HTTP 403 FSS.0403: denied', hint: 'grant rights', done: 'the code was uploaded' } });
    assert.equal(cloudErrorText(stdout, ''), 'updating: HTTP 403 FSS.0403: denied. NOT finished: the code was uploaded. grant rights');
    assert.equal(cloudErrorText('', 'fglocal: error: no region\n  what to do: give --region\n'), 'fglocal: error: no region what to do: give --region');
  });

  test('a sync report keeps its conflicts', () => {
    const report = parseSyncReport(JSON.stringify({ functionUrn: 'u', events: [{ name: 'e', action: 'conflict' }], conflicts: ['e'] }));
    assert.deepEqual(report?.conflicts, ['e']);
    assert.deepEqual(report?.events, [{ name: 'e', action: 'conflict' }]);
  });

  test('a sync is described event by event; a conflict names the events, says nothing was overwritten, and what --force would overwrite', () => {
    const events = [
      { name: 'a', action: 'pulled (new)' },
      { name: 'b', action: 'conflict' },
      { name: 'c', action: 'kept (changed locally: push it)' },
      { name: 'd', action: 'in sync' },
    ];
    const report = parseSyncReport(JSON.stringify({ functionUrn: 'u', events, conflicts: ['b'] }))!;
    assert.equal(describeSync(report, 'pull'), 'a.json pulled (new), b.json conflict, c.json kept (changed locally: push it), d.json in sync');
    assert.deepEqual(forcedBySync(report), ['b', 'c']);
    const message = conflictMessage(report, 'pull');
    assert.match(message, /^Conflict: b\.json changed both in events\/ and in the console since the last sync; neither side was overwritten\./);
    assert.match(message, /Overwrite the files in events\/ \(b\.json, c\.json\) with the console's version, or make the two sides equal and sync again\.$/);
    assert.match(conflictMessage(report, 'push'), /Overwrite the console's test events \(b\.json, c\.json\) with the local version/);
    assert.equal(describeSync(parseSyncReport(JSON.stringify({ functionUrn: 'u', events: [], conflicts: [] }))!, 'push'), 'no test events in events/');
  });
});
