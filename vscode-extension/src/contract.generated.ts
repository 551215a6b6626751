// Generated from fglocal/contract.py by `python -m fglocal.contract --write`: do not edit.
export const CONFIG_FILE_NAME = "fglocal.json";
export const DEFAULT_HANDLER = "index.handler";
export const DEFAULT_RUNTIME = "python3.9";
export const RUNTIMES = ["python2.7", "python3.6", "python3.9", "python3.10", "python3.12"] as const;
export const MEMORY_SIZES = [128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 8192, 10240] as const;
export const DEFAULT_MEMORY_SIZE = 128;
export const DEFAULT_TIMEOUT = 3;
export const TIMEOUT_RANGE = [1, 900] as const;
export const INITIALIZER_TIMEOUT_RANGE = [1, 300] as const;
export const LOCAL_ONLY_FIELDS = ["python"] as const;
export const ENTRY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
/** The files that can hold an entry's module, relative to the code root, most usual first. */
export function entryFiles(entry: string): readonly [string, string, string] {
  const base = entry.slice(0, entry.lastIndexOf('.')).split('.').join('/');
  return [`${base}.py`, `${base}/__init__.py`, `${base}.pyc`];
}
