// Real osquery samples: the copies in test/corpus/ and, when it is beside the repository,
// the team's shared corpus (../shared/corpus/public/). Every line is kept whole.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { CORPUS, convert, SHARED_CORPUS } from './helpers.js';

const logs = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => dir + f);
const files = logs(CORPUS);
t.ok(files.length >= 3, 'the corpus is there');
if (existsSync(SHARED_CORPUS)) {
  const known = new Set(files.map((f) => readFileSync(f, 'utf8')));
  for (const f of logs(SHARED_CORPUS)) if (!known.has(readFileSync(f, 'utf8'))) files.push(f);
} else {
  t.comment(`no shared corpus at ${SHARED_CORPUS}: only test/corpus/ is read`);
}

for (const path of files) {
  const f = path.slice(path.lastIndexOf('/') + 1);
  t.test(f, async (t) => {
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n').filter((l) => l !== '');
    const r = convert(text, {}, f);
    t.equal(r.reports, '', 'no problem reported');
    t.equal(r.events.length, lines.length, 'one event per line');
    for (const [i, line] of lines.entries()) {
      const input = JSON.parse(line) as Record<string, unknown>;
      const want: Record<string, unknown> = { kind: 'result', ...input };
      for (const k of ['unixTime', 'epoch', 'counter']) if (typeof input[k] === 'string') want[k] = Number(input[k]);
      t.same(r.events[i], want, `line ${i + 1}`);
      t.same(Object.keys(r.events[i]!), Object.keys(want), `line ${i + 1} key order`);
    }
    // The 64-bit value in the beats fixture keeps its digits.
    if (text.includes('9223372036854775807')) t.match(r.out, '"inodes":"9223372036854775807"');
  });
}
