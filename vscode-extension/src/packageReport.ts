// The report of `fglocal package --json`. No VS Code API here: unit-tested.

export interface PackageReport {
  readonly zip: string;
  readonly zipSize: number;
  readonly unzippedSize: number;
  readonly files: number;
  readonly excluded: ReadonlyArray<{ path: string; reason: string }>;
  readonly warnings: readonly string[];
  readonly problems: readonly string[];
  readonly limits: readonly string[];
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))) : [];

/** The report printed by `fglocal package --json`, or undefined when stdout holds none. */
export function parsePackageReport(stdout: string): PackageReport | undefined {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const report = data as Record<string, unknown>;
  if (typeof report.zip !== 'string' && !Array.isArray(report.problems)) return undefined;
  const excluded = Array.isArray(report.excluded)
    ? report.excluded.flatMap((item) =>
        typeof item === 'object' && item !== null && typeof (item as { path?: unknown }).path === 'string'
          ? [{ path: (item as { path: string }).path, reason: String((item as { reason?: unknown }).reason ?? '') }]
          : [],
      )
    : [];
  return {
    zip: typeof report.zip === 'string' ? report.zip : '',
    zipSize: typeof report.zipSize === 'number' ? report.zipSize : 0,
    unzippedSize: typeof report.unzippedSize === 'number' ? report.unzippedSize : 0,
    files: Array.isArray(report.files) ? report.files.length : 0,
    excluded,
    warnings: strings(report.warnings),
    problems: strings(report.problems),
    limits: strings(report.limits),
  };
}

/** A size for people: 319 B, 12.5 KB, 3.2 MB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The report as output-channel lines. */
export function describePackage(report: PackageReport): string[] {
  const lines = [`Packaged ${report.zip}: ${report.files} files, ${formatBytes(report.zipSize)} (${formatBytes(report.unzippedSize)} unzipped)`];
  for (const { path, reason } of report.excluded) lines.push(`  left out (${reason}): ${path}`);
  for (const limit of report.limits) lines.push(`  limit: ${limit}`);
  return lines;
}
