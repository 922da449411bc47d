// The real osquery samples in ../shared/corpus/public/: every line is kept whole.
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { CORPUS, convert } from './helpers.js';

const files = readdirSync(CORPUS).filter((f) => f.endsWith('.log'));

t.ok(files.length >= 3, 'the shared corpus is there');

for (const f of files) {
  t.test(f, async (t) => {
    const text = readFileSync(CORPUS + f, 'utf8');
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
