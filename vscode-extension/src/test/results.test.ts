import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { escapeHtml, formatResult, parseResult, prettyBody, resultHtml } from '../results';

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
