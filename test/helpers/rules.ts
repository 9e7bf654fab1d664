/** A temporary rules directory laid out as the ruler's local store reads it: `<dir>/<tenant>/<file>`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './tmp.js';

/** Writes `files` (name → YAML) for `tenant` (`fake` = auth off) and returns the rules directory. */
export function rulesDirWith(files: Record<string, string>, tenant = 'fake'): string {
  const dir = tempDir('skald-rules-');
  mkdirSync(join(dir, tenant));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, tenant, name), text);
  return dir;
}
