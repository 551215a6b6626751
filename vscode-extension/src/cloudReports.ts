// The cloud commands' side that needs no VS Code API (unit-tested): the credentials' environment,
// and reading `fglocal deploy --json` / `fglocal events pull|push --json` / their errors.
import { lastJsonLine } from './tool';

/** What "FunctionGraph: Set Credentials" stores in SecretStorage (never in settings or logs). */
export interface CloudCredentials {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly securityToken?: string;
  readonly projectId?: string;
}

/** The SDK's environment variables for `credentials`, added to `base` (the tool's environment). */
export function cloudEnvironment(base: Record<string, string>, credentials: CloudCredentials | undefined): Record<string, string> {
  const env = { ...base };
  if (credentials === undefined) return env; // the tool then reads its own environment or ~/.huaweicloud/credentials
  env.HUAWEICLOUD_SDK_AK = credentials.accessKey;
  env.HUAWEICLOUD_SDK_SK = credentials.secretKey;
  if (credentials.securityToken) env.HUAWEICLOUD_SDK_SECURITY_TOKEN = credentials.securityToken;
  else delete env.HUAWEICLOUD_SDK_SECURITY_TOKEN;
  if (credentials.projectId) env.HUAWEICLOUD_SDK_PROJECT_ID = credentials.projectId;
  return env;
}

/** Reads stored credentials; undefined for anything that is not a complete set. */
export function parseCredentials(text: string | undefined): CloudCredentials | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    if (typeof value.accessKey !== 'string' || typeof value.secretKey !== 'string' || !value.accessKey || !value.secretKey) return undefined;
    return {
      accessKey: value.accessKey,
      secretKey: value.secretKey,
      securityToken: typeof value.securityToken === 'string' && value.securityToken ? value.securityToken : undefined,
      projectId: typeof value.projectId === 'string' && value.projectId ? value.projectId : undefined,
    };
  } catch {
    return undefined;
  }
}

/**
 * What a stored credentials value holds, as the names Clear Credentials reports (never the values);
 * undefined when nothing is stored. A value that is not a complete set is still something to remove.
 */
export function storedCredentialFields(text: string | undefined): string[] | undefined {
  if (text === undefined || text === '') return undefined;
  const stored = parseCredentials(text);
  if (stored === undefined) return ['an incomplete or unreadable credentials entry'];
  return [
    'the access key ID (AK)',
    'the secret access key (SK)',
    ...(stored.securityToken ? ['the security token'] : []),
    ...(stored.projectId ? ['the project ID'] : []),
  ];
}

/** `fields` as one phrase: "a, b and c". */
export function listFields(fields: readonly string[]): string {
  return fields.length > 1 ? `${fields.slice(0, -1).join(', ')} and ${fields[fields.length - 1]}` : fields[0] ?? 'nothing';
}

/** The message after Clear Credentials removed `fields` (see storedCredentialFields). */
export function clearedMessage(fields: readonly string[]): string {
  return `FunctionGraph: removed ${listFields(fields)} from VS Code's secret storage. Cloud commands now use the SDK's HUAWEICLOUD_SDK_* variables or ~/.huaweicloud/credentials, if any, until you run Set Credentials again.`;
}

export interface CloudError {
  readonly message: string;
  readonly hint: string;
  readonly done: string;
  /** The API's HTTP status, when the API answered (401/403: credentials or permissions). */
  readonly status: number | null;
}

export interface DeployReport {
  readonly functionUrn: string;
  readonly created: boolean;
  readonly codeUpdated: boolean;
  readonly configUpdated: boolean;
  readonly changedFields: readonly string[];
  readonly version: string | null;
  /** What the deploy had to work around and says so (e.g. a create answered 5xx, then read back). */
  readonly notes: readonly string[];
  /** The package's warnings, as `fglocal package` gives them. */
  readonly warnings: readonly string[];
  readonly error?: CloudError;
}

export interface SyncReport {
  readonly functionUrn: string;
  readonly events: ReadonlyArray<{ readonly name: string; readonly action: string }>;
  readonly conflicts: readonly string[];
  readonly error?: CloudError;
}

function lastJson(stdout: string): Record<string, unknown> | undefined {
  const value = lastJsonLine(stdout);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function errorOf(data: Record<string, unknown>): CloudError | undefined {
  const error = data.error as Record<string, unknown> | undefined;
  if (typeof error !== 'object' || error === null) return undefined;
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  return { message: text(error.message), hint: text(error.hint), done: text(error.done), status: typeof error.status === 'number' ? error.status : null };
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string') : []);

/** The `fglocal deploy --json` object in `stdout`. */
export function parseDeployReport(stdout: string): DeployReport | undefined {
  const data = lastJson(stdout);
  if (data === undefined || typeof data.functionUrn !== 'string') return undefined;
  return {
    functionUrn: data.functionUrn,
    created: data.created === true,
    codeUpdated: data.codeUpdated === true,
    configUpdated: data.configUpdated === true,
    changedFields: Array.isArray(data.changedFields) ? data.changedFields.filter((f): f is string => typeof f === 'string') : [],
    version: typeof data.version === 'string' ? data.version : null,
    notes: strings(data.notes),
    warnings: strings(data.warnings),
    error: errorOf(data),
  };
}

/** One line saying what a deploy did. */
export function describeDeploy(report: DeployReport): string {
  const parts: string[] = [];
  if (report.created) parts.push('created');
  else {
    parts.push(report.codeUpdated ? 'code uploaded' : 'code unchanged');
    parts.push(report.configUpdated ? `configuration updated (${report.changedFields.join(', ')})` : 'configuration unchanged');
  }
  if (report.version !== null) parts.push(`version ${report.version} published`);
  const notes = report.notes.map((note) => `; note: ${note}`).join('');
  const count = report.warnings.length;
  const warned = count ? ` (${count} package warning${count === 1 ? '' : 's'}, see the output)` : '';
  return `${report.functionUrn}: ${parts.join(', ')}${notes}${warned}`;
}

/** The deploy's lines for the output channel: what it did (and its notes), then each package warning. */
export function deployLog(report: DeployReport): Array<{ readonly level: 'info' | 'warn'; readonly text: string }> {
  return [{ level: 'info', text: `deployed ${describeDeploy(report)}` }, ...report.warnings.map((w) => ({ level: 'warn' as const, text: `package warning: ${w}` }))];
}

/** The `fglocal events pull|push --json` object in `stdout`. */
export function parseSyncReport(stdout: string): SyncReport | undefined {
  const data = lastJson(stdout);
  if (data === undefined || (typeof data.functionUrn !== 'string' && data.error === undefined)) return undefined;
  const events = Array.isArray(data.events) ? data.events : [];
  return {
    functionUrn: typeof data.functionUrn === 'string' ? data.functionUrn : '',
    events: events
      .filter((e): e is { name: string; action: string } => typeof e === 'object' && e !== null && typeof e.name === 'string' && typeof e.action === 'string')
      .map((e) => ({ name: e.name, action: e.action })),
    conflicts: Array.isArray(data.conflicts) ? data.conflicts.filter((c): c is string => typeof c === 'string') : [],
    error: errorOf(data),
  };
}

function errorStatus(stdout: string): number | null | undefined {
  const data = lastJson(stdout);
  return data === undefined ? undefined : errorOf(data)?.status;
}

/** True when a failed cloud command's error is the API refusing the credentials (HTTP 401 or 403). */
export function refusedCredentials(stdout: string): boolean {
  const status = errorStatus(stdout);
  return status === 401 || status === 403;
}

/** True when a failed cloud command's error is a 404: the function (or the project) is not there. */
export function notFound(stdout: string): boolean {
  return errorStatus(stdout) === 404;
}

/**
 * `text` with every stored credential value replaced by `***`: the tool already keeps them out of what it
 * prints; the extension does not rely on that for what it shows or logs.
 */
export function redact(text: string, credentials: CloudCredentials | undefined): string {
  if (credentials === undefined) return text;
  let redacted = text;
  for (const secret of [credentials.accessKey, credentials.secretKey, credentials.securityToken]) {
    if (secret) redacted = redacted.split(secret).join('***');
  }
  return redacted;
}

/** The error of a failed cloud command: the JSON error when there is one, else stderr's message. */
export function cloudErrorText(stdout: string, stderr: string): string {
  const data = lastJson(stdout);
  const error = data === undefined ? undefined : errorOf(data);
  if (error !== undefined) {
    const done = error.done ? ` NOT finished: ${error.done}.` : '';
    const hint = error.hint ? ` What to do: ${error.hint.replace(/\.?$/, '.')}` : '';
    return `${error.message.replace(/\.?$/, '.')}${done}${hint}`;
  }
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  return lines.join(' ') || 'the command failed';
}

/** What a pull or push did, event by event, for a notification ("a.json pulled (new), b.json in sync"). */
export function describeSync(report: SyncReport, action: 'pull' | 'push'): string {
  if (report.events.length === 0) return action === 'pull' ? 'no test events in the console' : 'no test events in events/';
  return report.events.map((e) => `${e.name}.json ${e.action}`).join(', ');
}

/** The button on a conflict warning that runs the same sync again with `--force`. */
export function overwriteLabel(action: 'pull' | 'push'): string {
  return action === 'pull' ? 'Overwrite Local Files' : 'Overwrite Console';
}

/**
 * The events that running the same sync again with `--force` would change on the other side: the
 * conflicts and the events kept because only the other side changed (or deleted) them.
 */
export function forcedBySync(report: SyncReport): string[] {
  return report.events.filter((e) => e.action.startsWith('conflict') || e.action.startsWith('kept')).map((e) => e.name);
}

/**
 * The warning for a sync with conflicts: each event and why, that nothing was overwritten, and what
 * the overwrite button would do (write the source side's version, or delete where the source deleted).
 */
export function conflictMessage(report: SyncReport, action: 'pull' | 'push'): string {
  const conflicts = report.events.filter((e) => e.action.startsWith('conflict'));
  const described = conflicts.map((e) => `${e.name}.json ${/^conflict \((.*)\)$/.exec(e.action)?.[1] ?? 'changed both in events/ and in the console'}`);
  // --force makes the target match the source: where the source deleted the event, it is deleted.
  const sourceDeleted = action === 'pull' ? 'deleted in the console' : 'deleted locally';
  const deletes = new Set(conflicts.filter((e) => e.action.includes(sourceDeleted)).map((e) => e.name));
  const writes = forcedBySync(report).filter((n) => !deletes.has(n));
  const effects = [
    ...(writes.length ? [`writes ${writes.map((n) => `${n}.json`).join(', ')}`] : []),
    ...(deletes.size ? [`deletes ${[...deletes].map((n) => `${n}.json`).join(', ')}`] : []),
  ];
  const target = action === 'pull' ? 'events/ match the console' : 'the console match events/';
  return `Conflict since the last sync: ${described.join('; ')}; neither side was overwritten. "${overwriteLabel(action)}" makes ${target}: ${effects.join(', ')}.`;
}
