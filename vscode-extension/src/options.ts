// The extension's settings as plain data, and what the language server receives from them.
// No VS Code API here: unit-tested.

export type ResultViewMode = 'run' | 'always' | 'never';

export interface FunctionGraphSettings {
  readonly python: string;
  readonly runtime: string;
  readonly handler: string;
  readonly initializer: string;
  readonly diagnosticsEnabled: boolean;
  readonly disabledDiagnostics: readonly string[];
  readonly resultView: ResultViewMode;
  /** Start `fglocal runtime-server` for fast cold starts (Linux only). */
  readonly runtimeServerEnabled: boolean;
  /** Have the runtime server build its native launcher, and run `fglocal invoke` through it. */
  readonly runtimeServerLauncher: boolean;
  /** Give VS Code's integrated terminals the runtime server's folder (and launcher) while it is ready. */
  readonly runtimeServerTerminals: boolean;
}

export const DEFAULT_SETTINGS: FunctionGraphSettings = {
  python: '',
  runtime: '',
  handler: '',
  initializer: '',
  diagnosticsEnabled: true,
  disabledDiagnostics: [],
  resultView: 'run',
  runtimeServerEnabled: true,
  runtimeServerLauncher: true,
  runtimeServerTerminals: true,
};

/** What the server gets as `initializationOptions` and in `workspace/didChangeConfiguration`. */
export interface ServerSettings {
  /** Runtime to check against (e.g. "python3.9"); null: the function config's. */
  runtime: string | null;
  /** Handler entry; null: the function config's (default index.handler). */
  handler: string | null;
  /** Initializer entry; null: the function config's. */
  initializer: string | null;
  diagnostics: { enabled: boolean; disabledCodes: string[] };
  /** The selected test event of each function folder (absolute paths), as the status bar shows it. */
  testEvents: Record<string, string>;
}

/** Settings read through `get(key)`, with anything of the wrong type replaced by its default. */
export function settingsFrom(get: (key: string) => unknown): FunctionGraphSettings {
  const text = (key: string, fallback: string): string => {
    const value = get(key);
    return typeof value === 'string' ? value.trim() : fallback;
  };
  const disabled = get('diagnostics.disabledCodes');
  const resultView = get('resultView');
  const enabled = get('diagnostics.enabled');
  const runtimeServer = get('runtimeServer.enabled');
  const launcher = get('runtimeServer.launcher');
  const terminals = get('runtimeServer.terminals');
  return {
    python: text('python', DEFAULT_SETTINGS.python),
    runtime: text('runtime', DEFAULT_SETTINGS.runtime),
    handler: text('handler', DEFAULT_SETTINGS.handler),
    initializer: text('initializer', DEFAULT_SETTINGS.initializer),
    diagnosticsEnabled: typeof enabled === 'boolean' ? enabled : DEFAULT_SETTINGS.diagnosticsEnabled,
    disabledDiagnostics: Array.isArray(disabled) ? disabled.filter((code): code is string => typeof code === 'string') : [],
    resultView: resultView === 'always' || resultView === 'never' || resultView === 'run' ? resultView : 'run',
    runtimeServerEnabled: typeof runtimeServer === 'boolean' ? runtimeServer : DEFAULT_SETTINGS.runtimeServerEnabled,
    runtimeServerLauncher: typeof launcher === 'boolean' ? launcher : DEFAULT_SETTINGS.runtimeServerLauncher,
    runtimeServerTerminals: typeof terminals === 'boolean' ? terminals : DEFAULT_SETTINGS.runtimeServerTerminals,
  };
}

/** The language server's view of the settings: empty strings become null ("use the config file"). */
export function serverSettings(settings: FunctionGraphSettings, testEvents: Record<string, string> = {}): ServerSettings {
  const orNull = (value: string): string | null => (value === '' ? null : value);
  return {
    runtime: orNull(settings.runtime),
    handler: orNull(settings.handler),
    initializer: orNull(settings.initializer),
    diagnostics: { enabled: settings.diagnosticsEnabled, disabledCodes: [...settings.disabledDiagnostics] },
    testEvents: { ...testEvents },
  };
}
