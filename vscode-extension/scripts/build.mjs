// Builds dist/extension.js with esbuild and keeps package.json's debugger attributes in step with the
// debug adapter's launch schema (../debug_adapter/launch-schema.json, when that file exists).
import { build } from 'esbuild';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function syncLaunchSchema() {
  const schemaFile = join(root, '..', 'debug_adapter', 'launch-schema.json');
  if (!existsSync(schemaFile)) {
    console.warn(`build: ${schemaFile} not found; keeping package.json's launch attributes`);
    return;
  }
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
  const launch = { ...schema };
  for (const key of ['$schema', '$id', 'title', 'additionalProperties']) delete launch[key];
  const packageFile = join(root, 'package.json');
  const text = readFileSync(packageFile, 'utf8');
  const manifest = JSON.parse(text);
  manifest.contributes.debuggers[0].configurationAttributes = { launch };
  const updated = JSON.stringify(manifest, null, 2) + '\n';
  if (updated !== text) {
    writeFileSync(packageFile, updated);
    console.log('build: package.json configurationAttributes updated from launch-schema.json');
  }
}

syncLaunchSchema();
await build({
  entryPoints: [join(root, 'src', 'extension.ts')],
  outfile: join(root, 'dist', 'extension.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  // ESM builds first: jsonc-parser's UMD build loads its parts with requires esbuild cannot follow.
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: false,
  logLevel: 'warning',
});
