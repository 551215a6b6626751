// Test events on disk: the function folder's `events/*.json`, their validity, new file names.
// No VS Code API here: unit-tested.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, ParseError, printParseErrorCode } from 'jsonc-parser';

export const EVENTS_DIR = 'events';

/**
 * The test event files of a function folder, sorted by name. Hidden files are not events: among them
 * `fglocal events pull|push`'s sync record, `events/.fglocal-sync.json`.
 */
export function listEventFiles(functionDir: string): string[] {
  const dir = path.join(functionDir, EVENTS_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.endsWith('.json') && !name.startsWith('.') && fs.statSync(path.join(dir, name)).isFile())
    .sort((a, b) => a.localeCompare(b))
    .map((name) => path.join(dir, name));
}

export type EventCheck = { readonly ok: true } | { readonly ok: false; readonly message: string; readonly line?: number };

/** Checks that an event file holds strict JSON; the message says what is wrong and on which line. */
export function checkEventText(text: string): EventCheck {
  if (text.trim() === '') return { ok: false, message: 'the file is empty (a test event is a JSON value, e.g. {})' };
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (first === undefined) return { ok: true };
  const line = text.slice(0, first.offset).split('\n').length;
  const what = printParseErrorCode(first.error).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return { ok: false, message: `${what} on line ${line}`, line };
}

/** A trigger template offered by `fglocal event list`. */
export interface TriggerTemplate {
  readonly name: string;
  readonly description: string;
}

/**
 * Reads `fglocal event list` output: JSON (a list of names or of {name, description}) or one
 * template per line, its name first.
 */
export function parseTriggerList(stdout: string): TriggerTemplate[] {
  const text = stdout.trim();
  try {
    const data: unknown = JSON.parse(text);
    if (Array.isArray(data)) {
      return data.flatMap((item): TriggerTemplate[] => {
        if (typeof item === 'string') return [{ name: item, description: '' }];
        if (typeof item === 'object' && item !== null && typeof (item as { name?: unknown }).name === 'string') {
          const { name, description } = item as { name: string; description?: unknown };
          return [{ name, description: typeof description === 'string' ? description : '' }];
        }
        return [];
      });
    }
  } catch {
    // plain text
  }
  const templates: TriggerTemplate[] = [];
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([a-z][a-z0-9._-]*)\b[\s:—-]*(.*)$/i.exec(line);
    if (match?.[1] && !/^(usage|available|templates?|triggers?)$/i.test(match[1])) {
      templates.push({ name: match[1], description: (match[2] ?? '').trim() });
    }
  }
  return templates;
}

/** A file name in `functionDir/events` for a new event from `template` that does not exist yet. */
export function newEventFile(functionDir: string, template: string): string {
  const base = template.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'event';
  const dir = path.join(functionDir, EVENTS_DIR);
  for (let n = 1; ; n += 1) {
    const candidate = path.join(dir, n === 1 ? `${base}.json` : `${base}-${n}.json`);
    if (!fs.existsSync(candidate)) return candidate;
  }
}
