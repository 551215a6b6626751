import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_SETTINGS, serverSettings, settingsFrom } from '../options';

describe('settings', () => {
  test('values of the right type are kept, trimmed', () => {
    const values: Record<string, unknown> = {
      python: ' /usr/bin/python3 ',
      runtime: 'python3.10',
      handler: 'main.h',
      initializer: '',
      'diagnostics.enabled': false,
      'diagnostics.disabledCodes': ['sensitive-logged', 7, 'reload-sys'],
      resultView: 'always',
      'runtimeServer.enabled': false,
      'runtimeServer.launcher': false,
      'runtimeServer.terminals': false,
    };
    assert.deepEqual(settingsFrom((key) => values[key]), {
      python: '/usr/bin/python3',
      runtime: 'python3.10',
      handler: 'main.h',
      initializer: '',
      diagnosticsEnabled: false,
      disabledDiagnostics: ['sensitive-logged', 'reload-sys'],
      resultView: 'always',
      runtimeServerEnabled: false,
      runtimeServerLauncher: false,
      runtimeServerTerminals: false,
    });
  });

  test('nonsense falls back to the defaults', () => {
    const values: Record<string, unknown> = { python: 3, 'diagnostics.enabled': 'yes', 'diagnostics.disabledCodes': 'reload-sys', resultView: 'sometimes', 'runtimeServer.enabled': 'no', 'runtimeServer.launcher': 1, 'runtimeServer.terminals': 'off' };
    assert.deepEqual(settingsFrom((key) => values[key]), DEFAULT_SETTINGS);
  });

  test('the server gets null for "use the function config" and the diagnostic switches', () => {
    assert.deepEqual(serverSettings({ ...DEFAULT_SETTINGS, runtime: 'python2.7', disabledDiagnostics: ['reload-sys'] }), {
      runtime: 'python2.7',
      handler: null,
      initializer: null,
      diagnostics: { enabled: true, disabledCodes: ['reload-sys'] },
      testEvents: {},
    });
  });

  test('the server gets the selected test event of each function', () => {
    const selected = { '/work/fn': '/work/fn/events/apig.json' };
    assert.deepEqual(serverSettings(DEFAULT_SETTINGS, selected).testEvents, selected);
  });
});
