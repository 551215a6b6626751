import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clearedMessage, cloudEnvironment, cloudErrorText, conflictMessage, deployLog, describeDeploy, describeSync, forcedBySync, parseCredentials, parseDeployReport, parseSyncReport, notFound, redact, refusedCredentials, storedCredentialFields } from '../cloudReports';

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

  test('Clear Credentials names every stored field, never a value, and finds nothing when nothing is stored', () => {
    const full = JSON.stringify({ accessKey: 'AK-VALUE', secretKey: 'SK-VALUE', securityToken: 'TOKEN-VALUE', projectId: 'PROJECT-VALUE' });
    const fields = storedCredentialFields(full);
    assert.deepEqual(fields, ['the access key ID (AK)', 'the secret access key (SK)', 'the security token', 'the project ID']);
    const message = clearedMessage(fields ?? []);
    assert.match(message, /^FunctionGraph: removed the access key ID \(AK\), the secret access key \(SK\), the security token and the project ID from VS Code's secret storage\./);
    for (const value of ['AK-VALUE', 'SK-VALUE', 'TOKEN-VALUE', 'PROJECT-VALUE']) assert.ok(!message.includes(value) && !fields?.join().includes(value), value);
    assert.deepEqual(storedCredentialFields(JSON.stringify({ accessKey: 'A', secretKey: 'S', securityToken: '' })), ['the access key ID (AK)', 'the secret access key (SK)']);
    assert.match(clearedMessage(['the access key ID (AK)', 'the secret access key (SK)']), /removed the access key ID \(AK\) and the secret access key \(SK\) from/);
    // Something unreadable under the key is still removed (and said so); nothing stored is nothing.
    assert.deepEqual(storedCredentialFields('{"accessKey": "AK-VALUE"}'), ['an incomplete or unreadable credentials entry']);
    assert.equal(storedCredentialFields(undefined), undefined);
    assert.equal(storedCredentialFields(''), undefined);
  });

  test('a deploy report is read and described', () => {
    const report = parseDeployReport(
      JSON.stringify({ functionUrn: 'urn:fss:r:p:function:default:f:latest', created: false, codeUpdated: true, configUpdated: true, changedFields: ['memorySize'], version: '2' }),
    );
    assert.ok(report);
    assert.equal(describeDeploy(report), 'urn:fss:r:p:function:default:f:latest: code uploaded, configuration updated (memorySize), version 2 published');
    assert.deepEqual([report.notes, report.warnings], [[], []]);
    assert.equal(parseDeployReport('garbage'), undefined);
  });

  test('a deploy\'s notes are in its message, its package warnings counted there and each in the output', () => {
    const note = 'the create request was answered HTTP 502 but had been performed: its retry was refused (already exists), so the function was read back and compared';
    const warnings = ['index.py: not valid Python 3.9', 'your six replaces the one of the same name from requirements.txt'];
    const report = parseDeployReport(JSON.stringify({ functionUrn: 'u', created: true, codeUpdated: true, configUpdated: true, version: null, notes: [note, 7], warnings }));
    assert.ok(report);
    assert.deepEqual(report.notes, [note]);
    assert.equal(describeDeploy(report), `u: created; note: ${note} (2 package warnings, see the output)`);
    assert.deepEqual(deployLog(report), [
      { level: 'info', text: `deployed u: created; note: ${note} (2 package warnings, see the output)` },
      { level: 'warn', text: `package warning: ${warnings[0]}` },
      { level: 'warn', text: `package warning: ${warnings[1]}` },
    ]);
    const one = parseDeployReport(JSON.stringify({ functionUrn: 'u', created: true, warnings: [warnings[0]] }));
    assert.ok(one);
    assert.equal(describeDeploy(one), 'u: created (1 package warning, see the output)');
  });

  test('errors say what was done and what to do', () => {
    const stdout = JSON.stringify({ functionUrn: 'u', error: { message: 'updating: HTTP 403 FSS.0403: denied', hint: 'grant rights', done: 'the code was uploaded' } });
    assert.equal(cloudErrorText(stdout, ''), 'updating: HTTP 403 FSS.0403: denied. NOT finished: the code was uploaded. What to do: grant rights.');
    assert.equal(cloudErrorText('', 'fglocal: error: no region\n  what to do: give --region\n'), 'fglocal: error: no region what to do: give --region');
  });

  test('a sync report keeps its conflicts', () => {
    const report = parseSyncReport(JSON.stringify({ functionUrn: 'u', events: [{ name: 'e', action: 'conflict' }], conflicts: ['e'] }));
    assert.deepEqual(report?.conflicts, ['e']);
    assert.deepEqual(report?.events, [{ name: 'e', action: 'conflict' }]);
  });

  test('a sync is described event by event; a conflict names the events, says nothing was overwritten, and what --force would do', () => {
    const events = [
      { name: 'a', action: 'pulled (new)' },
      { name: 'b', action: 'conflict' },
      { name: 'c', action: 'kept (changed locally: push it)' },
      { name: 'd', action: 'in sync' },
      { name: 'e', action: 'conflict (deleted in the console, changed locally)' },
      { name: 'f', action: 'deleted locally (deleted in the console)' },
    ];
    const report = parseSyncReport(JSON.stringify({ functionUrn: 'u', events, conflicts: ['b', 'e'], deleted: ['f'] }))!;
    assert.equal(describeSync(report, 'pull'), 'a.json pulled (new), b.json conflict, c.json kept (changed locally: push it), d.json in sync, e.json conflict (deleted in the console, changed locally), f.json deleted locally (deleted in the console)');
    assert.deepEqual(forcedBySync(report), ['b', 'c', 'e']);
    assert.equal(
      conflictMessage(report, 'pull'),
      'Conflict since the last sync: b.json changed both in events/ and in the console; e.json deleted in the console, changed locally; neither side was overwritten. "Overwrite Local Files" makes events/ match the console: writes b.json, c.json, deletes e.json.',
    );
    const pushed = parseSyncReport(JSON.stringify({ functionUrn: 'u', events: [{ name: 'g', action: 'conflict (deleted locally, changed in the console)' }, { name: 'h', action: 'kept (deleted in the console: pull to delete it locally, or push --force to restore it)' }], conflicts: ['g'] }))!;
    assert.equal(conflictMessage(pushed, 'push'), 'Conflict since the last sync: g.json deleted locally, changed in the console; neither side was overwritten. "Overwrite Console" makes the console match events/: writes h.json, deletes g.json.');
    assert.equal(describeSync(parseSyncReport(JSON.stringify({ functionUrn: 'u', events: [], conflicts: [] }))!, 'push'), 'no test events in events/');
  });

  test('a refusal of the credentials, and a missing function, are recognised by their status; stored credentials are redacted from any text', () => {
    const refused = (status: number | null): string => JSON.stringify({ error: { message: 'm', status, hint: '', done: '' } });
    assert.equal(refusedCredentials(refused(401)), true);
    assert.equal(refusedCredentials(refused(403)), true);
    assert.equal(refusedCredentials(refused(404)), false);
    assert.equal(refusedCredentials(refused(null)), false);
    assert.equal(refusedCredentials('not json'), false);
    assert.equal(notFound(refused(404)), true);
    assert.equal(notFound(refused(401)), false);
    const creds = { accessKey: 'AK1', secretKey: 'SK-secret', securityToken: 'TOK' };
    assert.equal(redact('AK1 signed with SK-secret and TOK, SK-secret again', creds), '*** signed with *** and ***, *** again');
    assert.equal(redact('nothing here', undefined), 'nothing here');
  });
});
