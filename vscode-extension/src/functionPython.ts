// The Python that runs a function (its runtime's interpreter), as `fglocal python --json` reports it,
// and the local-only `"python"` field of fglocal.json that picks one. No VS Code API here: unit-tested.

/** The interpreter `fglocal` resolved for a function. */
export interface FunctionPython {
  readonly runtime: string;
  readonly path: string;
  /** The full version, e.g. `3.9.18`. */
  readonly version: string;
  /** Where it was found: `--python`, `fglocal.json`, `FGLOCAL_PYTHON`, `PATH`, `pyenv`, `uv`, `asdf`, `conda`, `fglocal`. */
  readonly source: string;
  readonly warnings: readonly string[];
}

export type FunctionPythonResult =
  | { readonly ok: true; readonly python: FunctionPython }
  | { readonly ok: false; readonly runtime: string | undefined; readonly message: string };

/** The arguments (after the interpreter) of the query: `-m fglocal python --code-dir DIR --json`. */
export function functionPythonArgs(functionDir: string): string[] {
  return ['-m', 'fglocal', 'python', '--code-dir', functionDir, '--json'];
}

/** Reads the query's outcome: its JSON line when there is one, else the refusal on stderr. */
export function parseFunctionPython(code: number | null, stdout: string, stderr: string): FunctionPythonResult {
  const data = lastJsonObject(stdout);
  const python = data?.python;
  if (code === 0 && data !== undefined && isRecord(python) && typeof python.path === 'string' && typeof python.version === 'string') {
    return {
      ok: true,
      python: {
        runtime: typeof data.runtime === 'string' ? data.runtime : '',
        path: python.path,
        version: python.version,
        source: typeof data.source === 'string' ? data.source : '',
        warnings: Array.isArray(data.warnings) ? data.warnings.filter((w): w is string => typeof w === 'string') : [],
      },
    };
  }
  const runtime = typeof data?.runtime === 'string' ? data.runtime : undefined;
  if (typeof data?.error === 'string' && data.error !== '') return { ok: false, runtime, message: data.error };
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const last = (lines[lines.length - 1] ?? '').replace(/^fglocal: error: /, '');
  return { ok: false, runtime, message: last || `fglocal python ended with exit code ${String(code)}` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function lastJsonObject(stdout: string): Record<string, unknown> | undefined {
  const lines = stdout.trim().split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const data: unknown = JSON.parse(lines[i] ?? '');
      if (isRecord(data)) return data;
    } catch {
      // not the JSON line
    }
  }
  return undefined;
}

/** The status bar text: `python3.9 · 3.9.18`, or what is missing. */
export function pythonStatusText(runtime: string, result: FunctionPythonResult | undefined): string {
  if (result === undefined) return `$(sync~spin) ${runtime}`;
  if (!result.ok) return `$(warning) ${runtime} · no interpreter`;
  const mark = result.python.warnings.length > 0 ? '$(warning) ' : '';
  return `${mark}${runtime} · ${result.python.version}`;
}

/** Where an interpreter came from, for people. */
export function describeSource(source: string): string {
  const texts: Record<string, string> = {
    '--python': 'given with --python',
    'fglocal.json': '"python" in fglocal.json',
    FGLOCAL_PYTHON: 'the FGLOCAL_PYTHON environment variable',
    fglocal: 'the interpreter running the tools',
    'any-python': 'the interpreter running the tools (--any-python)',
    PATH: 'found on PATH',
    pyenv: 'found by pyenv',
    uv: 'a uv-managed Python',
    asdf: 'found by asdf',
    conda: 'a conda environment',
  };
  return texts[source] ?? source;
}

/** The one notification shown when a function's interpreter is missing: what, and the fix. */
export function missingPythonMessage(runtime: string, functionName: string, refusal: string): string {
  return `FunctionGraph: no Python for ${runtime} (${functionName}): ${refusal}. Pick an interpreter for this function, or install one.`;
}

/**
 * fglocal.json's text with the local-only `"python"` field set to `python` (removed when undefined),
 * every other field and its order kept, in the file's own indentation. Throws on text that is not a
 * JSON object (the caller shows the config error instead of overwriting the file).
 */
export function setPythonField(text: string | undefined, python: string | undefined): string {
  const data: unknown = text === undefined || text.trim() === '' ? {} : JSON.parse(text);
  if (!isRecord(data)) throw new Error('fglocal.json must hold a JSON object');
  const updated: Record<string, unknown> = { ...data };
  if (python === undefined) delete updated.python;
  else updated.python = python;
  const indent = text?.match(/^[{[]\s*\n([ \t]+)\S/)?.[1] ?? '  ';
  return `${JSON.stringify(updated, null, indent)}\n`;
}
