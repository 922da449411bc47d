// Golden CLI tests: each directory under test/cases/ is one run of the built binary.
//   args    one argument per line (paths are relative to the repository root)
//   stdin   fed to standard input (optional)
//   stdout  expected standard output, byte for byte
//   stderr  expected standard error (optional; absent means empty)
//   status  expected exit status (optional; absent means 0)
// OQFWD_UPDATE_GOLDEN=1 rewrites the expectations from the current binary: review the diff.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cli, ROOT } from './helpers.js';

const CASES = join(ROOT, 'test', 'cases');
const update = process.env.OQFWD_UPDATE_GOLDEN === '1';

function read(dir: string, name: string): string | null {
  const p = join(dir, name);
  return existsSync(p) ? readFileSync(p, 'utf8') : null;
}

for (const name of readdirSync(CASES).sort()) {
  const dir = join(CASES, name);
  t.test(name, async (t) => {
    const args = (read(dir, 'args') ?? '').split('\n').filter((a) => a !== '');
    const stdin = existsSync(join(dir, 'stdin')) ? readFileSync(join(dir, 'stdin')) : '';
    const r = await cli(args, stdin);
    if (update) {
      writeFileSync(join(dir, 'stdout'), r.stdout);
      if (r.stderr !== '') writeFileSync(join(dir, 'stderr'), r.stderr);
      if (r.code !== 0) writeFileSync(join(dir, 'status'), `${r.code}\n`);
    }
    t.equal(r.stdout, read(dir, 'stdout') ?? '', 'stdout');
    t.equal(r.stderr, read(dir, 'stderr') ?? '', 'stderr');
    t.equal(r.code, Number(read(dir, 'status') ?? 0), 'exit status');
  });
}
