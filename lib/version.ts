import { readFileSync } from 'node:fs';

/** oqfwd's version, from its package.json (two levels above the compiled dist/lib/). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
