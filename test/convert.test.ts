import t from 'tap';
import { REPORTS_PER_INPUT } from '../lib/report.js';
import { linesRead } from '../lib/stats.js';
import { convert } from './helpers.js';
import { LINES } from './fixtures.js';

const all = Object.values(LINES);

t.test('every shape becomes one event with the input fields', async (t) => {
  const r = convert(all.join('\n') + '\n');
  t.equal(r.events.length, all.length);
  t.same(r.events.map((e) => e.kind), ['result', 'result', 'result', 'result', 'result', 'batch', 'batch', 'batch', 'snapshot', 'snapshot', 'snapshot', 'snapshot', 'status', 'status']);
  for (const [i, line] of all.entries()) {
    const input = JSON.parse(line) as Record<string, unknown>;
    const ev = r.events[i]!;
    for (const [k, v] of Object.entries(input)) {
      if (['unixTime', 'epoch', 'counter', 'severity', 'line'].includes(k) && typeof v === 'string') t.equal(ev[k], Number(v), `${i} ${k} as number`);
      else t.same(ev[k], v, `${i} ${k}`);
    }
  }
  t.equal(linesRead(r.stats), all.length);
  t.equal(r.stats.events, all.length);
  t.equal(r.reports, '');
});

t.test('--flatten: rows become events; row counts equal the rows of the input', async (t) => {
  const r = convert(all.join('\n'), { flatten: true });
  let rows = 0;
  let empty = 0;
  let others = 0;
  for (const line of all) {
    const o = JSON.parse(line) as { diffResults?: { removed: unknown[] | ''; added: unknown[] | '' }; snapshot?: unknown[] | '' };
    const n = o.diffResults
      ? (o.diffResults.removed || []).length + (o.diffResults.added || []).length
      : o.snapshot !== undefined
        ? (o.snapshot || []).length
        : -1;
    if (n === -1) others++;
    else if (n === 0) empty++;
    else rows += n;
  }
  t.equal(r.stats.rowEvents, rows);
  t.equal(r.stats.emptyRecords, empty);
  t.equal(r.events.length, rows + empty + others, 'a row event per row, one event per empty line');
  t.equal(r.stats.events, rows + empty + others);
  t.equal(r.events.filter((e) => e.rowCount === 0).length, empty);
  for (const e of r.events) {
    if ((e.kind === 'result' || e.kind === 'snapshot') && e.rowCount !== 0) {
      t.type(e.columns, 'object');
      t.type(e.action, 'string');
    }
  }
  t.notOk(r.events.some((e) => e.kind === 'batch'), 'no batch event is left');
});

t.test('syslog-wrapped lines are unwrapped', async (t) => {
  const r = convert(`Nov 27 21:07:58 web-01 osqueryd[1184]: ${LINES.event}\nNov 27 21:07:58 web-01 osqueryd[1184]: @cee:${LINES.snapshot}\n`);
  t.same(r.events.map((e) => e.kind), ['result', 'snapshot']);
  t.equal(r.events[0]!.name, 'test_query');
});

t.test('osquery 1.7 snapshot lines glued together are split', async (t) => {
  const r = convert(LINES.snapshotEmpty + LINES.snapshot + '\n', { flatten: true });
  t.equal(r.stats.linesSnapshot, 1, 'one line');
  t.equal(r.stats.gluedRecords, 1, 'one more record glued to it');
  t.equal(linesRead(r.stats), 1);
  t.equal(r.stats.emptyRecords, 1);
  t.equal(r.events.length, 1 + 2, 'the empty one says so, then the rows of the other');
});

t.test('bad lines are forwarded as unparsed, with the reason, and reported', async (t) => {
  const bad = ['{"name":"q","columns":{"a":"1"},"act', '[1,2]', '"text"', '12', 'null', '{"foo":1}', '\u0000\u0001\u00ff binary', 'hello world'];
  const r = convert(bad.join('\n') + '\n', {}, 'results.log');
  t.equal(r.events.length, bad.length);
  t.equal(r.stats.linesUnparsed, bad.length);
  for (const [i, ev] of r.events.entries()) {
    t.equal(ev.kind, 'unparsed');
    t.equal(ev.raw, bad[i]);
    t.equal(ev.line, i + 1);
    t.equal(ev.file, 'results.log');
    t.type(ev.reason, 'string');
  }
  t.match(r.events[0]!.reason, /^invalid JSON: /);
  t.equal(r.events[5]!.reason, 'JSON object is not an osquery record');
  t.equal(r.events[7]!.reason, 'not an osquery line');
  t.match(r.reports, /^oqfwd: results\.log:1: invalid JSON: /m);
  t.match(r.reports, /^oqfwd: results\.log:8: not an osquery line$/m);
  t.notMatch(r.out, /[\u0000-\u0009\u000b-\u001f]/, 'no raw control characters');
});

t.test('--unparsed=drop counts and drops; --unparsed=fail stops at the first', async (t) => {
  const input = `${LINES.event}\nnope\n${LINES.event}\n`;
  const dropped = convert(input, { unparsed: 'drop' });
  t.equal(dropped.events.length, 2);
  t.equal(dropped.stats.dropped, 1);
  t.equal(dropped.stats.linesUnparsed, 1);
  const failed = convert(input, { unparsed: 'fail' });
  t.equal(failed.events.length, 1, 'the line before the bad one is still written');
  t.match(failed.failure, { file: 'in.log', lineNo: 2, reason: 'not an osquery line' });
});

t.test('reports are summarised, not flooded', async (t) => {
  const r = convert('junk\n'.repeat(50));
  const lines = r.reports.trimEnd().split('\n');
  t.equal(lines.length, REPORTS_PER_INPUT + 1);
  t.equal(lines.at(-1), `oqfwd: in.log: ${50 - REPORTS_PER_INPUT} more problems not shown (--stats counts them all)`);
  t.equal(r.stats.linesUnparsed, 50);
});

t.test('blank lines, CRLF, BOM, no final newline', async (t) => {
  const r = convert(`\uFEFF${LINES.event}\r\n\r\n   \n${LINES.batch}`);
  t.same(r.events.map((e) => e.kind), ['result', 'batch']);
  t.equal(r.stats.linesBlank, 2);
  t.equal(linesRead(r.stats), 4);
});

t.test('a line nested 100 000 deep neither crashes nor is lost', async (t) => {
  const deep = '{"name":"q","columns":{"a":' + '['.repeat(100000) + ']'.repeat(100000) + '},"action":"added","unixTime":"1"}';
  const r = convert(deep + '\n' + '['.repeat(100000) + '\n');
  t.equal(r.events.length, 2);
  t.equal(r.events[0]!.kind, 'result');
  t.equal(r.events[0]!.unixTime, 1);
  t.equal(r.events[1]!.kind, 'unparsed');
});

t.test('a line over --max-line is reported and skipped; the rest goes on', async (t) => {
  const r = convert(`${LINES.event}\n${'x'.repeat(5000)}\n${LINES.event}\n`, { maxLine: 1000 });
  t.equal(r.events.length, 2);
  t.equal(r.stats.linesSkipped, 1);
  t.match(r.reports, /in\.log:2: line of 5000 bytes longer than --max-line 1000, skipped/);
});

t.test('invalid UTF-8 is replaced, counted and reported', async (t) => {
  const line = Buffer.concat([Buffer.from('{"name":"q","columns":{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"},"action":"added"}\n')]);
  const r = convert(line);
  t.equal(r.events.length, 1);
  t.equal((r.events[0]!.columns as { a: string }).a, '\uFFFD(');
  t.equal(r.stats.badUtf8, 1);
  t.match(r.reports, /in\.log:1: invalid UTF-8 replaced by U\+FFFD/);
});

t.test('output is safe for every NDJSON reader', async (t) => {
  const nasty = '{"name":"q","columns":{"a":"x\u2028y\u2029z\u0085w\u007f","b":"\\ud800","c":"\\ud83d\\ude00"},\t"action":"added"}';
  const r = convert(nasty + '\n' + 'raw \u2028 junk \u0085\n');
  t.notMatch(r.out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/);
  t.equal(r.events.length, 2);
  t.same(r.events[0]!.columns, { a: 'x\u2028y\u2029z\u0085w\u007f', b: '\uFFFD', c: '😀' });
  t.equal(r.events[1]!.raw, 'raw \u2028 junk \u0085');
  for (const l of r.out.trimEnd().split('\n')) t.equal(l[0], '{');
});

t.test('glued objects that are not osquery records count once as a line', async (t) => {
  const r = convert(`${LINES.event}{"foo":1}\n`);
  t.same(r.events.map((e) => e.kind), ['result', 'unparsed']);
  t.equal(linesRead(r.stats), 1);
  t.equal(r.stats.gluedRecords, 1);
});
