import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareHtml, compareResults, escapeHtml, formatResult, parseResult, prettyBody, resultHtml } from '../results';

const OK = {
  requestId: 'req-1',
  body: '{"statusCode": 200, "body": "hi"}',
  contentType: 'application/json',
  error: null,
  summary: { requestId: 'req-1', memorySizeMB: 128, durationMs: 1.234, maxMemoryUsedMB: 20.5, billedDurationMs: 2 },
  logs: '2026-01-01 req-1 INFO hello\n',
  logsTruncated: false,
  logFile: '/tmp/x.log',
};

describe('result objects', () => {
  test('the --json contract is read field by field', () => {
    const result = parseResult(OK);
    assert.ok(result);
    assert.equal(result.requestId, 'req-1');
    assert.equal(result.summary.durationMs, 1.234);
    assert.equal(result.error, null);
    assert.equal(result.logFile, '/tmp/x.log');
  });

  test('a result wrapped in {result: ...} (a debug event body) is unwrapped', () => {
    assert.equal(parseResult({ result: OK })?.requestId, 'req-1');
  });

  test('things that are not results are refused', () => {
    assert.equal(parseResult(null), undefined);
    assert.equal(parseResult('text'), undefined);
    assert.equal(parseResult({ hello: 1 }), undefined);
  });

  test('errors keep the platform\'s error object', () => {
    const result = parseResult({ ...OK, body: '', error: { errorMessage: 'boom', errorType: 'ValueError', stackTrace: ['a', 'b'] } });
    assert.deepEqual(result?.error, { errorMessage: 'boom', errorType: 'ValueError', stackTrace: ['a', 'b'] });
  });
});

describe('presenting results', () => {
  test('JSON bodies are pretty-printed; others shown as they are; empty means None', () => {
    assert.equal(prettyBody('{"a":1}'), '{\n  "a": 1\n}');
    assert.equal(prettyBody('plain text'), 'plain text');
    assert.match(prettyBody(''), /returned None/);
  });

  test('the text form has the return, the summary and the logs, in that order', () => {
    const text = formatResult(parseResult(OK)!, 'index.handler').join('\n');
    const order = ['Return (application/json):', '"statusCode": 200', 'Summary:', 'Duration         1.23 ms', 'Billed duration  2 ms', 'Logs:', 'INFO hello', 'Full log: /tmp/x.log'];
    let at = -1;
    for (const piece of order) {
      const found = text.indexOf(piece);
      assert.ok(found > at, `"${piece}" missing or out of order in:\n${text}`);
      at = found;
    }
  });

  test('an error result shows the error object instead of a return', () => {
    const text = formatResult(parseResult({ ...OK, error: { errorMessage: 'boom', errorType: 'ValueError', stackTrace: [] } })!, 'h').join('\n');
    assert.match(text, /Error:\n\{\n {2}"errorMessage": "boom"/);
    assert.doesNotMatch(text, /Return/);
  });

  test('the HTML view escapes everything the function produced and runs no script', () => {
    const html = resultHtml(parseResult({ ...OK, body: '"<script>alert(1)</script>"', logs: '<b>x</b>' })!, 'h', 'vscode-resource:');
    assert.doesNotMatch(html, /<script>/);
    assert.match(html, /&lt;script&gt;/);
    assert.match(html, /default-src 'none'/);
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('the interpreter that ran it', () => {
  const RAN = { ...OK, python: { version: '2.7.18', path: '/py/2.7.18/bin/python2.7' }, warnings: [] };
  const ANY = { ...RAN, python: { version: '3.12.1', path: '/venv/bin/python' }, warnings: ['the runtime python3.6 needs Python 3.6 and none was found: running on 3.12.1 because of --any-python'] };

  test('a local run names its Python (full version and path) in the output and the result view', () => {
    const result = parseResult(RAN)!;
    assert.deepEqual(result.python, { version: '2.7.18', path: '/py/2.7.18/bin/python2.7' });
    assert.match(formatResult(result, 't').join('\n'), /Ran locally \(fglocal\) on Python 2\.7\.18 \(\/py\/2\.7\.18\/bin\/python2\.7\)/);
    assert.match(resultHtml(result, 't', 'x'), /Ran locally \(fglocal\) on Python 2\.7\.18 \(\/py\/2\.7\.18\/bin\/python2\.7\)/);
    assert.equal(parseResult(OK)?.python, null, 'an older fglocal without "python": nothing invented');
    assert.match(formatResult(parseResult(OK)!, 't').join('\n'), /Ran locally \(fglocal\)$/m);
  });

  test('its warnings (--any-python) stand in the output and the result view', () => {
    const result = parseResult(ANY)!;
    assert.deepEqual(result.warnings, ANY.warnings);
    assert.match(formatResult(result, 't').join('\n'), /Warning: the runtime python3\.6 needs Python 3\.6/);
    assert.match(resultHtml(result, 't', 'x'), /class="warning">Warning: the runtime python3\.6 needs Python 3\.6/);
    assert.doesNotMatch(resultHtml(parseResult(RAN)!, 't', 'x'), /Warning:/);
  });
});

describe('local and cloud results', () => {
  const CLOUD = { ...OK, requestId: 'req-2', body: '{"body":"hi","statusCode":200}', source: 'cloud', functionUrn: 'urn:fss:r:p:function:default:f:latest', logFile: null, summary: { ...OK.summary, requestId: 'req-2', durationMs: 12.5, billedDurationMs: 13 } };

  test('the source is read: a cloud run says so and names the function; anything else ran locally', () => {
    const cloud = parseResult(CLOUD)!;
    assert.equal(cloud.source, 'cloud');
    assert.equal(cloud.functionUrn, 'urn:fss:r:p:function:default:f:latest');
    assert.equal(parseResult(OK)?.source, 'local');
    assert.match(formatResult(cloud, 't').join('\n'), /Ran in the cloud: urn:fss:r:p:function:default:f:latest/);
    assert.match(resultHtml(parseResult(OK)!, 't', 'x'), /Ran locally/);
  });

  test('the comparison compares returns as JSON and names each measurement that differs', () => {
    const rows = compareResults(parseResult(OK)!, parseResult(CLOUD)!);
    const byAspect = new Map(rows.map((r) => [r.aspect, r]));
    assert.equal(byAspect.get('Return')?.same, true, 'the same JSON, formatted differently');
    assert.equal(byAspect.get('Status')?.same, true);
    assert.deepEqual([byAspect.get('Duration')?.local, byAspect.get('Duration')?.cloud, byAspect.get('Duration')?.same], ['1.23 ms', '12.5 ms', false]);
    assert.equal(byAspect.get('Memory size')?.same, true);
    assert.equal(byAspect.has('Request ID'), false);
    const failed = compareResults(parseResult(OK)!, parseResult({ ...CLOUD, body: '', error: { errorMessage: 'boom', errorType: 'KeyError', stackTrace: [] } })!);
    assert.deepEqual(
      failed.filter((r) => !r.same).map((r) => r.aspect),
      ['Status', 'Return or error', 'Duration', 'Billed duration'],
    );
    assert.equal(failed[1]?.cloud, 'KeyError: boom');
  });

  test('the comparison page shows what differs, then both results side by side, escaped', () => {
    const html = compareHtml(parseResult(OK)!, parseResult({ ...CLOUD, body: '"<b>cloud</b>"' })!, 'f ← e.json', 'x');
    assert.match(html, /Differs in: Return, Duration, Billed duration/);
    const local = html.indexOf('<section class="local"><h2>Local</h2>');
    const cloud = html.indexOf('<section class="cloud"><h2>Cloud</h2>');
    assert.ok(local > 0 && cloud > local, html);
    assert.match(html.slice(cloud), /Ran in the cloud: urn:fss/);
    assert.match(html.slice(local, cloud), /Ran locally/);
    assert.match(html, /&lt;b&gt;cloud&lt;\/b&gt;/);
    assert.doesNotMatch(html, /<b>cloud/);
    assert.match(compareHtml(parseResult(OK)!, parseResult(OK)!, 't', 'x'), /Same status, return and summary/);
  });
});
