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
  /** Where it ran: `fglocal invoke --cloud --json` says "cloud" (and the function's URN); local runs say nothing. */
  readonly source: 'local' | 'cloud';
  readonly functionUrn: string | null;
  /** The interpreter that ran a local invocation (`"python": {"version", "path"}`); null when not said. */
  readonly python: { readonly version: string; readonly path: string } | null;
  /** What the run warns about (e.g. `--any-python`: not the runtime's Python). */
  readonly warnings: readonly string[];
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
    source: data.source === 'cloud' ? 'cloud' : 'local',
    functionUrn: typeof data.functionUrn === 'string' ? data.functionUrn : null,
    python: parsePython(data.python),
    warnings: Array.isArray(data.warnings) ? data.warnings.filter((w): w is string => typeof w === 'string') : [],
  };
}

function parsePython(value: unknown): InvocationResult['python'] {
  if (typeof value !== 'object' || value === null) return null;
  const { version, path } = value as Record<string, unknown>;
  return typeof version === 'string' && typeof path === 'string' ? { version, path } : null;
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
  const lines = [`━━ ${title} ━━`, sourceText(result), ...result.warnings.map((w) => `Warning: ${w}`)];
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

/** Where the result comes from, as the user reads it. */
export function sourceText(result: InvocationResult): string {
  if (result.source === 'cloud') return `Ran in the cloud${result.functionUrn ? `: ${result.functionUrn}` : ''}`;
  return `Ran locally (fglocal)${result.python ? ` on Python ${result.python.version} (${result.python.path})` : ''}`;
}

function statusText(result: InvocationResult): string {
  return result.error ? `Failed: ${result.error.errorType || 'error'}` : 'Succeeded';
}

function returnText(result: InvocationResult): string {
  return result.error ? JSON.stringify(result.error, null, 2) : prettyBody(result.body);
}

/** One result as HTML (source, status, return or error, summary, logs): the result view's body. */
function resultSection(result: InvocationResult, heading: string): string {
  const status = `<p class="status ${result.error ? 'failed' : 'ok'}">${escapeHtml(statusText(result))}</p>`;
  const returned = result.error
    ? `<${heading}>Error</${heading}><pre>${escapeHtml(returnText(result))}</pre>`
    : `<${heading}>Return${result.contentType ? ` <small>${escapeHtml(result.contentType)}</small>` : ''}</${heading}><pre>${escapeHtml(returnText(result))}</pre>`;
  const rows = summaryRows(result)
    .map(([label, value]) => `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`)
    .join('');
  const logNote = result.logFile ? `<p class="note">${result.logsTruncated ? 'Truncated. ' : ''}Full log: ${escapeHtml(result.logFile)}</p>` : '';
  const warnings = result.warnings.map((w) => `<p class="warning">${escapeHtml(`Warning: ${w}`)}</p>`).join('');
  return `<p class="source">${escapeHtml(sourceText(result))}</p>${warnings}${status}${returned}
<${heading}>Summary</${heading}><table>${rows}</table>
<${heading}>Logs</${heading}><pre>${escapeHtml(result.logs || '(no output)')}</pre>${logNote}`;
}

function page(title: string, cspSource: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'unsafe-inline';">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px; }
pre { font-family: var(--vscode-editor-font-family); background: var(--vscode-textCodeBlock-background); padding: 8px; white-space: pre-wrap; word-break: break-word; }
table { border-collapse: collapse; } th { text-align: left; padding: 2px 16px 2px 0; font-weight: normal; opacity: .8; } td { font-family: var(--vscode-editor-font-family); padding-right: 16px; }
.status.ok { color: var(--vscode-testing-iconPassed); } .status.failed { color: var(--vscode-errorForeground); }
.note, .source { opacity: .8; overflow-wrap: anywhere; } .warning { color: var(--vscode-editorWarning-foreground); overflow-wrap: anywhere; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; } .sides > section { min-width: 0; }
tr.differs td.verdict { color: var(--vscode-editorWarning-foreground); }
</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}
</body></html>`;
}

/** A self-contained HTML page (no scripts) showing the result: source, return, summary table, logs. */
export function resultHtml(result: InvocationResult, title: string, cspSource: string): string {
  return page(title, cspSource, resultSection(result, 'h2'));
}

/** JSON with every object's keys sorted: two encodings of the same value give the same text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** One aspect of two runs of the same event: each side's value and whether they agree. */
export interface Difference {
  readonly aspect: string;
  readonly local: string;
  readonly cloud: string;
  readonly same: boolean;
}

/**
 * What differs between a local and a cloud run of the same event: status, return (compared as JSON
 * when both are JSON, so formatting and key order do not count), error, and the summary's measurements. Request
 * IDs always differ and logs carry them and timestamps, so neither is compared.
 */
export function compareResults(local: InvocationResult, cloud: InvocationResult): Difference[] {
  const canonical = (result: InvocationResult): string => {
    if (result.error) return JSON.stringify([result.error.errorType, result.error.errorMessage]);
    try {
      return canonicalJson(JSON.parse(result.body));
    } catch {
      return result.body;
    }
  };
  const row = (aspect: string, a: string, b: string, same = a === b): Difference => ({ aspect, local: a, cloud: b, same });
  const returned = (result: InvocationResult): string => (result.error ? `${result.error.errorType}: ${result.error.errorMessage}` : prettyBody(result.body));
  const summary = new Map(summaryRows(local));
  const rows = [row('Status', statusText(local), statusText(cloud)), row(local.error || cloud.error ? 'Return or error' : 'Return', returned(local), returned(cloud), canonical(local) === canonical(cloud))];
  for (const [label, value] of summaryRows(cloud)) {
    if (label !== 'Request ID') rows.push(row(label, summary.get(label) ?? '—', value));
  }
  return rows;
}

/** The comparison page: what differs, then the two results side by side (local left, cloud right). */
export function compareHtml(local: InvocationResult, cloud: InvocationResult, title: string, cspSource: string): string {
  const differences = compareResults(local, cloud);
  const differing = differences.filter((d) => !d.same).map((d) => d.aspect);
  const verdict = differing.length ? `Differs in: ${differing.join(', ')}` : 'Same status, return and summary';
  const rows = differences
    .map((d) => `<tr class="${d.same ? 'same' : 'differs'}"><th>${escapeHtml(d.aspect)}</th><td>${escapeHtml(d.local)}</td><td>${escapeHtml(d.cloud)}</td><td class="verdict">${d.same ? 'same' : 'differs'}</td></tr>`)
    .join('');
  return page(
    title,
    cspSource,
    `<h2>Differences</h2><p class="verdict">${escapeHtml(verdict)}</p>
<table class="differences"><tr><th></th><th>Local</th><th>Cloud</th><th></th></tr>${rows}</table>
<div class="sides"><section class="local"><h2>Local</h2>${resultSection(local, 'h3')}</section><section class="cloud"><h2>Cloud</h2>${resultSection(cloud, 'h3')}</section></div>`,
  );
}
