// Where the extension's bundled Python lives, and the environment that makes it importable.
import * as path from 'node:path';

export interface BundledPaths {
  /** The kit's own packages: fglocal, server, debug_adapter. */
  readonly tool: string;
  /** Their pinned dependencies (pygls, lsprotocol, debugpy, ...). */
  readonly libs: string;
}

/** The bundled folders inside the installed extension at `extensionPath`. */
export function bundledPaths(extensionPath: string): BundledPaths {
  return { tool: path.join(extensionPath, 'bundled', 'tool'), libs: path.join(extensionPath, 'bundled', 'libs') };
}

/**
 * The environment for a bundled tool: our folders first on PYTHONPATH (so the user's packages never
 * shadow pygls or debugpy), the user's own PYTHONPATH after them, unbuffered output.
 */
export function toolEnvironment(paths: BundledPaths, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  const parts = [paths.tool, paths.libs];
  if (base.PYTHONPATH) parts.push(base.PYTHONPATH);
  env.PYTHONPATH = parts.join(path.delimiter);
  env.PYTHONUNBUFFERED = '1';
  return env;
}
