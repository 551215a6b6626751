// The `fglocal --json` result object: reading it and presenting it (text for the output channel,
// HTML for the result view). No VS Code API here: unit-tested.

export interface InvocationError {
  readonly errorMessage: string;
  readonly errorType: string;
  readonly stackTrace: readonly string[];
}

export interface InvocationSummary {
  readonly requestId: string;
  readonly memorySizeMB: number | undefined;
  readonly durationMs: number | undefined;
  readonly maxMemoryUsedMB: number | undefined;
  readonly billedDurationMs: number | undefined;
}

export interface InvocationResult {
  readonly requestId: string;
  readonly body: string;
  readonly contentType: string | null;
  readonly error: InvocationError | null;
  readonly summary: InvocationSummary;
  readonly logs: string;
  readonly logsTruncated: boolean;
  readonly logFile: string | null;
}

const str = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** The result object in `value` (as printed by `fglocal invoke --json` or sent by the debug adapter). */
export function parseResult(value: unknown): InvocationResult | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const data = value as Record<string, unknown>;
  if (!('summary' in data) && typeof data.result === 'object') return parseResult(data.result);
  if (typeof data.requestId !== 'string' && typeof data.summary !== 'object') return undefined;
  const summary = (typeof data.summary === 'object' && data.summary !== null ? data.summary : {}) as Record<string, unknown>;
  const rawError = data.error as Record<string, unknown> | null | undefined;
  const error =
    typeof rawError === 'object' && rawError !== null
      ? {
          errorMessage: str(rawError.errorMessage),
          errorType: str(rawError.errorType),
          stackTrace: Array.isArray(rawError.stackTrace) ? rawError.stackTrace.map((line) => String(line)) : [],
        }
      : null;
  const requestId = str(data.requestId, str(summary.requestId));
  return {
    requestId,
    body: typeof data.body === 'string' ? data.body : data.body === undefined || data.body === null ? '' : JSON.stringify(data.body),
    contentType: typeof data.contentType === 'string' ? data.contentType : null,
    error,
    summary: {
      requestId: str(summary.requestId, requestId),
      memorySizeMB: num(summary.memorySizeMB),
      durationMs: num(summary.durationMs),
      maxMemoryUsedMB: num(summary.maxMemoryUsedMB),
      billedDurationMs: num(summary.billedDurationMs),
    },
    logs: str(data.logs),
    logsTruncated: data.logsTruncated === true,
    logFile: typeof data.logFile === 'string' ? data.logFile : null,
  };
}

/** The function's return as the user wants to read it: pretty JSON when it is JSON. */
export function prettyBody(body: string): string {
  if (body === '') return '(empty: the function returned None)';
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

const fmt = (value: number | undefined, unit: string): string => (value === undefined ? '—' : `${Math.round(value * 100) / 100} ${unit}`);

/** The execution summary as label/value rows. */
export function summaryRows(result: InvocationResult): Array<[string, string]> {
  const { summary } = result;
  return [
    ['Request ID', summary.requestId || '—'],
    ['Duration', fmt(summary.durationMs, 'ms')],
    ['Billed duration', fmt(summary.billedDurationMs, 'ms')],
    ['Memory size', fmt(summary.memorySizeMB, 'MB')],
    ['Max memory used', fmt(summary.maxMemoryUsedMB, 'MB')],
  ];
}

/** The result as text lines for the output channel: return (or error), summary, logs. */
export function formatResult(result: InvocationResult, title: string): string[] {
  const lines = [`━━ ${title} ━━`];
  if (result.error) {
    lines.push('Error:', JSON.stringify(result.error, null, 2));
  } else {
    lines.push(`Return${result.contentType ? ` (${result.contentType})` : ''}:`, prettyBody(result.body));
  }
  lines.push('Summary:');
  for (const [label, value] of summaryRows(result)) lines.push(`  ${label.padEnd(16)} ${value}`);
  if (result.logs !== '') {
    lines.push('Logs:', result.logs.replace(/\n$/, ''));
  }
  if (result.logsTruncated || result.logFile) {
    lines.push(`${result.logsTruncated ? 'Logs truncated; full log' : 'Full log'}: ${result.logFile ?? '(not kept)'}`);
  }
  return lines;
}

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** A self-contained HTML page (no scripts) showing the result: return, summary table, logs. */
export function resultHtml(result: InvocationResult, title: string, cspSource: string): string {
  const status = result.error
    ? `<p class="status failed">Failed: ${escapeHtml(result.error.errorType || 'error')}</p>`
    : '<p class="status ok">Succeeded</p>';
  const returned = result.error
    ? `<h2>Error</h2><pre>${escapeHtml(JSON.stringify(result.error, null, 2))}</pre>`
    : `<h2>Return${result.contentType ? ` <small>${escapeHtml(result.contentType)}</small>` : ''}</h2><pre>${escapeHtml(prettyBody(result.body))}</pre>`;
  const rows = summaryRows(result)
    .map(([label, value]) => `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`)
    .join('');
  const logNote = result.logFile ? `<p class="note">${result.logsTruncated ? 'Truncated. ' : ''}Full log: ${escapeHtml(result.logFile)}</p>` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'unsafe-inline';">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px; }
pre { font-family: var(--vscode-editor-font-family); background: var(--vscode-textCodeBlock-background); padding: 8px; white-space: pre-wrap; word-break: break-word; }
table { border-collapse: collapse; } th { text-align: left; padding: 2px 16px 2px 0; font-weight: normal; opacity: .8; } td { font-family: var(--vscode-editor-font-family); }
.status.ok { color: var(--vscode-testing-iconPassed); } .status.failed { color: var(--vscode-errorForeground); }
.note { opacity: .8; }
</style></head>
<body><h1>${escapeHtml(title)}</h1>${status}${returned}
<h2>Summary</h2><table>${rows}</table>
<h2>Logs</h2><pre>${escapeHtml(result.logs || '(no output)')}</pre>${logNote}
</body></html>`;
}
