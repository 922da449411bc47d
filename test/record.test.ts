import t from 'tap';
import { scanObjectLine } from '../lib/json-scan.js';
import { classify, INPUT_KIND_FIELD, kindOf, RowWriter, writeRecord, type RecordKind } from '../lib/record.js';
import type { RawMember } from '../lib/json-raw.js';
import { LINES } from './fixtures.js';

/** writeRecord's output as one string. */
function encodeRecord(s: string, start: number, ms: RawMember[], kind: RecordKind, extra = ''): string {
  const parts: string[] = [];
  writeRecord({ write: (p) => void parts.push(p), keep: (b) => void parts.push(b.toString('latin1')) }, s, start, ms, kind, extra);
  return parts.join('');
}

function parse(s: string): Record<string, unknown> {
  return JSON.parse(s) as Record<string, unknown>;
}

function members(s: string) {
  return scanObjectLine(s, 0)!;
}

function encodeRowsOf(s: string, kind: 'batch' | 'snapshot') {
  const w = new RowWriter(s, members(s), kind);
  const parts: string[] = [];
  const sink = { write: (p: string) => void parts.push(p), keep: (b: Buffer) => void parts.push(b.toString('latin1')) };
  while (!w.done) w.write(sink);
  return { text: parts.join(''), rows: w.rows };
}

t.test('classify tells every shape apart', async (t) => {
  const want: Record<keyof typeof LINES, string> = {
    event: 'result',
    eventLogNumerics: 'result',
    event32: 'result',
    event31: 'result',
    topLevel: 'result',
    batch: 'batch',
    batchEmpty: 'batch',
    batch31Empty: 'batch',
    snapshot: 'snapshot',
    snapshotEmpty: 'snapshot',
    snapshot31Empty: 'snapshot',
    snapshotRow: 'snapshot-row',
    status59: 'status',
    status510: 'status',
  };
  for (const [name, line] of Object.entries(LINES)) t.equal(classify(line, members(line)), want[name as keyof typeof LINES], name);
  for (const [s, why] of <Array<[string, string]>>[
    ['{"columns":{}}', 'columns without action'],
    ['{"columns":[],"action":"added"}', 'columns that are not an object'],
    ['{"columns":{},"action":1}', 'an action that is not a string'],
    ['{"snapshot":"x"}', 'a snapshot that is neither array nor ""'],
    ['{"diffResults":[]}', 'diffResults that are not an object'],
    ['{"severity":0}', 'severity without message'],
    ['{"foo":1}', 'nothing of osquery'],
  ]) {
    t.equal(classify(s, members(s)), null, why);
  }
  t.equal(classify('{"action":"added","columns":{},"action":"snapshot"}', members('{"action":"added","columns":{},"action":"snapshot"}')), 'snapshot-row', 'the last duplicate counts');
});

t.test('an unchanged line comes out byte for byte, kind first', async (t) => {
  for (const name of ['event', 'eventLogNumerics', 'event32', 'status510'] as const) {
    const s = LINES[name];
    const kind = kindOf(classify(s, members(s))!);
    t.equal(encodeRecord(s, 0, members(s), kind), `{"kind":"${kind}",${s.slice(1)}\n`, name);
  }
});

t.test('string envelope fields become numbers; everything else stays', async (t) => {
  const out = parse(encodeRecord(LINES.event31, 0, members(LINES.event31), 'result'));
  const input = parse(LINES.event31);
  t.same(out, { kind: 'result', ...input, unixTime: 1514472008, epoch: 0, counter: 1 });
  t.same(Object.keys(out), ['kind', ...Object.keys(input)], 'key order kept');
  const st = parse(encodeRecord(LINES.status59, 0, members(LINES.status59), 'status'));
  t.same([st.unixTime, st.severity, st.line], [1646258574, 0, 49]);
  t.equal(st.version, '4.9.0', 'other strings stay strings');
});

t.test('a value that is not an integer is kept as it is', async (t) => {
  const s = '{"name":"q","unixTime":"soon","epoch":"007","counter":"1.5","columns":{},"action":"added"}';
  const out = parse(encodeRecord(s, 0, members(s), 'result'));
  t.same([out.unixTime, out.epoch, out.counter], ['soon', '007', '1.5']);
});

t.test('64-bit integers keep their digits, in columns and envelope, on every path', async (t) => {
  const big = '18446744073709551615';
  const fast = `{"name":"q","unixTime":${big},"columns":{"inode":${big},"n":-9223372036854775808},"action":"added"}`;
  const slow = `{"name":"q","unixTime":"${big}","columns":{"inode":${big},"f":2.0,"e":1E400},"action":"added"}`;
  for (const s of [fast, slow]) {
    const out = encodeRecord(s, 0, members(s), 'result');
    t.match(out, `"inode":${big}`);
    t.match(out, `"unixTime":${big}`);
  }
  t.match(encodeRecord(slow, 0, members(slow), 'result'), '"f":2.0,"e":1E400', 'numbers are not reformatted');
  const rows = encodeRowsOf(`{"snapshot":[{"inode":${big}}],"unixTime":"${big}"}`, 'snapshot').text;
  t.match(rows, `"columns":{"inode":${big}}`);
  t.match(rows, `"unixTime":${big}`);
});

t.test('__proto__, constructor and empty keys are ordinary data', async (t) => {
  const s = '{"name":"q","columns":{"__proto__":{"polluted":"yes"},"constructor":"c","":"empty","count(*)":"3"},"decorations":{"__proto__":"d"},"action":"added","unixTime":"1"}';
  for (const out of [encodeRecord(s, 0, members(s), 'result'), encodeRowsOf(`{"snapshot":[${parse(s).columns ? JSON.stringify(parse(s).columns) : ''}]}`, 'snapshot').text]) {
    const cols = (JSON.parse(out) as { columns: Record<string, unknown> }).columns;
    t.same(Object.keys(cols), ['__proto__', 'constructor', '', 'count(*)']);
    t.same(Object.getOwnPropertyDescriptor(cols, '__proto__')?.value, { polluted: 'yes' });
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
});

t.test('an input field named kind is kept as _kind', async (t) => {
  const s = '{"kind":"mine","name":"q","columns":{},"action":"added"}';
  const out = parse(encodeRecord(s, 0, members(s), 'result'));
  t.equal(out.kind, 'result');
  t.equal(out[INPUT_KIND_FIELD], 'mine');
});

t.test('RowWriter: one event per row, osquery event shape, in line order', async (t) => {
  const { text, rows } = encodeRowsOf(LINES.batch, 'batch');
  t.equal(rows, 3);
  const evs = text.trimEnd().split('\n').map(parse);
  t.same(evs.map((e) => [e.kind, e.action, (e.columns as { a: string }).a, e.rowIndex, e.rowCount]), [
    ['result', 'removed', '1', 0, 3],
    ['result', 'added', '2', 1, 3],
    ['result', 'added', '3', 2, 3],
  ]);
  t.same(Object.keys(evs[0]!), ['kind', 'name', 'hostIdentifier', 'calendarTime', 'unixTime', 'epoch', 'counter', 'numerics', 'decorations', 'columns', 'action', 'rowIndex', 'rowCount']);
  const snap = encodeRowsOf(LINES.snapshot, 'snapshot');
  t.equal(snap.rows, 2);
  t.same(snap.text.trimEnd().split('\n').map(parse).map((e) => [e.kind, e.action, e.rowIndex]), [
    ['snapshot', 'snapshot', 0],
    ['snapshot', 'snapshot', 1],
  ]);
});

t.test('RowWriter: empty forms give no rows, and one event that says the set is empty', async (t) => {
  for (const [s, k] of [
    [LINES.batchEmpty, 'batch'],
    [LINES.snapshotEmpty, 'snapshot'],
    [LINES.snapshot31Empty, 'snapshot'],
  ] as const) {
    const r = encodeRowsOf(s, k);
    t.equal(r.rows, 0, `${k}: no rows`);
    const lines = r.text.trimEnd().split('\n');
    t.equal(lines.length, 1, `${k}: one event`);
    const e = parse(lines[0]!);
    t.match(e, { kind: k === 'batch' ? 'result' : 'snapshot', rowCount: 0, name: JSON.parse(s).name }, k);
    t.notOk('columns' in e || 'rowIndex' in e || 'diffResults' in e || 'snapshot' in e, `${k}: no columns, no rows carried`);
    t.equal(e.action, k === 'snapshot' ? 'snapshot' : undefined, `${k}: the action of its kind`);
  }
  const old = encodeRowsOf(LINES.batch31Empty, 'batch');
  t.equal(old.rows, 1, '"removed":"" is an empty side');
  t.same(parse(old.text).unixTime, 10);
});

t.test('RowWriter: line members named like row fields give way (as in osquery)', async (t) => {
  const s = '{"snapshot":[{"a":"1"}],"action":"snapshot","name":"s","columns":"decoration","rowIndex":"x"}';
  const ev = parse(encodeRowsOf(s, 'snapshot').text);
  t.same(ev.columns, { a: '1' });
  t.equal(ev.rowIndex, 0);
});

t.test('duplicate keys: the last counts, as with JSON.parse and osquery, for rows as for the kind', async (t) => {
  const snap = '{"snapshot":[{"a":"old"},{"a":"old2"}],"action":"snapshot","name":"s","snapshot":[{"a":"new"}]}';
  t.same(JSON.parse(snap).snapshot, [{ a: 'new' }], 'what JSON.parse keeps');
  const rows = encodeRowsOf(snap, 'snapshot');
  t.equal(rows.rows, 1);
  t.same(rows.text.trimEnd().split('\n').map(parse).map((e) => [e.columns, e.rowCount]), [[{ a: 'new' }, 1]]);
  const batch = '{"diffResults":{"added":[{"p":"1"}],"removed":[{"p":"2"}],"added":[{"p":"3"},{"p":"4"}]},"name":"b","diffResults":{"removed":[{"p":"9"}],"added":[{"p":"8"}],"added":[{"p":"7"}]}}';
  const b = encodeRowsOf(batch, 'batch');
  t.same(b.text.trimEnd().split('\n').map(parse).map((e) => [e.action, e.columns]), [
    ['removed', { p: '9' }],
    ['added', { p: '7' }],
  ], 'the last diffResults, and in it the last of each side, in the order of the line');
  // The input's kind is kept under a name it does not have already: one of each, none lost.
  const k = parse(encodeRecord('{"name":"q","kind":"mine","_kind":"theirs","columns":{},"action":"added"}', 0, members('{"name":"q","kind":"mine","_kind":"theirs","columns":{},"action":"added"}'), 'result'));
  t.same([k.kind, k._kind, k.__kind], ['result', 'theirs', 'mine']);
  const raw = encodeRecord('{"kind":"mine","_kind":"theirs","snapshot":[],"action":"snapshot"}', 0, members('{"kind":"mine","_kind":"theirs","snapshot":[],"action":"snapshot"}'), 'snapshot');
  t.equal(raw.split('"_kind"').length, 2, 'one _kind member in the text');
});
