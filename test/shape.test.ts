// Selection (--kind, --query, --min-severity, --action) and added fields (--add-field,
// --timestamp, --event-id): unit tests of shape.ts, then through the converter.
import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { eventId, globToRegExp, isoTime, NO_SHAPING, type ShapeOptions } from '../lib/shape.js';
import { linesRead } from '../lib/stats.js';
import { cli, convert } from './helpers.js';

const shape = (o: Partial<ShapeOptions>): { shape: ShapeOptions } => ({ shape: { ...NO_SHAPING, ...o } });

const RESULT = (name: string, action: string, columns = '{"a":"1"}', unixTime = '1795597900'): string =>
  `{"name":"${name}","hostIdentifier":"h","unixTime":${unixTime},"epoch":0,"counter":3,"columns":${columns},"action":"${action}"}\n`;
const BATCH = '{"diffResults":{"removed":[{"p":"1"}],"added":[{"p":"2"},{"p":"3"}]},"name":"procs","hostIdentifier":"h","unixTime":1795598040,"epoch":0,"counter":12}\n';
const SNAPSHOT = '{"snapshot":[{"x":"1"},{"x":"1"}],"action":"snapshot","name":"pack_inv_debs","hostIdentifier":"h","unixTime":"1795598000","epoch":0,"counter":0}\n';
const GLOG = [
  'I1124 23:15:02.118467  1184 init.cpp:418] started\n',
  'W1124 23:15:03.004512  1201 scheduler.cpp:102] slow\n',
  'E1124 23:17:45.000012  1203 tables.cpp:97] no such table\n',
  'F1124 23:18:00.000001  1203 main.cpp:1] dying\n',
].join('');
const STATUS_JSON = '{"hostIdentifier":"h","calendarTime":"x","unixTime":"1646258574","severity":"2","filename":"f.cpp","line":"49","message":"m"}\n';

/** Every line read is in one line counter, and every event made was written or filtered. */
function accounted(t: Test, c: ReturnType<typeof convert>, lines: number): void {
  t.equal(linesRead(c.stats), lines, 'every line counted');
  t.equal(c.events.length, c.stats.events, 'events counts what was written');
}

t.test('globs: * crosses /, ? is one character, sets, escapes; anchored', async (t) => {
  const g = (glob: string, name: string): boolean => globToRegExp(glob).test(name);
  t.ok(g('pack_*', 'pack_incident-response_last'));
  t.ok(g('pack/*/last', 'pack/ir/sub/last'), '* crosses /');
  t.notOk(g('pack_*', 'xpack_a'), 'anchored at the start');
  t.notOk(g('*_last', 'a_lastx'), 'anchored at the end');
  t.ok(g('q?', 'q1'));
  t.notOk(g('q?', 'q12'));
  t.ok(g('[ab]x', 'bx'));
  t.notOk(g('[!ab]x', 'bx'));
  t.ok(g('[!ab]x', 'cx'));
  t.ok(g('a.b(c)+', 'a.b(c)+'), 'regex characters are literal');
  t.notOk(g('a.b', 'axb'));
  t.ok(g('\\*', '*'));
  t.notOk(g('\\*', 'x'));
  t.ok(g('[x', '[x'), 'an unclosed [ is literal');
});

t.test('ISO times: seconds, microseconds, fractions, out of range', async (t) => {
  t.equal(isoTime(1795597900), '2026-11-25T09:11:40Z');
  t.equal(isoTime(0), '1970-01-01T00:00:00Z');
  t.equal(isoTime(1795597900, 4512), '2026-11-25T09:11:40.004512Z');
  t.equal(isoTime(1.5), '1970-01-01T00:00:01.500000Z');
  t.equal(isoTime(-1), '1969-12-31T23:59:59Z');
  t.equal(isoTime(1e20), null);
  t.equal(isoTime(NaN), null);
  t.equal(isoTime(253402300800), '+010000-01-01T00:00:00Z', 'past 9999: still ISO 8601');
});

t.test('an event id is the recipe of the man page: SHA-256 of the parts, each with a newline, 32 hex digits', async (t) => {
  const parts = ['"result"', '{"a":"é"}'];
  const bin = parts.map((p) => Buffer.from(p).toString('latin1'));
  const want = createHash('sha256').update('"result"\n{"a":"é"}\n', 'utf8').digest('hex').slice(0, 32);
  t.equal(eventId(bin), want, 'the bytes of the input, UTF-8 as it came');
  t.match(eventId(['x']), /^[0-9a-f]{32}$/);
  t.not(eventId(['"a"', '']), eventId(['"a"']), 'an empty part still counts');
  t.not(eventId(['"a"', '"b"']), eventId(['"b"', '"a"']), 'order counts');
});

t.test('--kind selects by the kind written; --flatten makes batch rows result events', async (t) => {
  const input = 'junk\n' + RESULT('q', 'added') + BATCH + SNAPSHOT + GLOG;
  const status = convert(input, shape({ kinds: new Set(['status']) }));
  t.same(status.events.map((e) => e.kind), ['status', 'status', 'status', 'status']);
  t.equal(status.stats.filtered, 4, 'result, batch, snapshot and unparsed left out, counted');
  accounted(t, status, 8);
  const rows = convert(input, { flatten: true, ...shape({ kinds: new Set(['result']) }) });
  t.same(rows.events.map((e) => e.action), ['added', 'removed', 'added', 'added']);
  t.equal(rows.stats.filtered, 2 + 4 + 1, 'snapshot rows, status records and the unparsed line');
  t.equal(rows.stats.rowEvents, 3, 'events_rows counts the rows written');
  accounted(t, rows, 8);
  const batch = convert(input, { flatten: true, ...shape({ kinds: new Set(['batch']) }) });
  t.same(batch.events, [], 'no batch event is written under --flatten');
});

t.test('--query matches the decoded query name; events without one are left out', async (t) => {
  const input = RESULT('pack_ir_last', 'added') + RESULT('caf\\u00e9', 'added') + RESULT('other', 'removed') + SNAPSHOT + GLOG;
  const c = convert(input, shape({ queries: ['pack_*', 'caf?'] }));
  t.same(
    c.events.map((e) => e.name),
    ['pack_ir_last', 'café', 'pack_inv_debs'],
  );
  t.equal(c.stats.filtered, 1 + 4, 'the other query and the status records');
  accounted(t, c, 8);
  const rows = convert(SNAPSHOT, { flatten: true, ...shape({ queries: ['nomatch'] }) });
  t.same(rows.events, []);
  t.equal(rows.stats.filtered, 2, 'each row left out is counted');
});

t.test('--min-severity keeps status events at or above it, from glog and JSON alike; others pass', async (t) => {
  const input = GLOG + STATUS_JSON + RESULT('q', 'added');
  const c = convert(input, shape({ minSeverity: 2 }));
  t.same(
    c.events.map((e) => [e.kind, e.severity]),
    [
      ['status', 2],
      ['status', 3],
      ['status', 2],
      ['result', undefined],
    ],
  );
  t.equal(c.stats.filtered, 2);
  const fatal = convert(GLOG, shape({ minSeverity: 3 }));
  t.same(fatal.events.map((e) => e.message), ['dying']);
  const all = convert(GLOG, shape({ minSeverity: 0 }));
  t.equal(all.events.length, 4, 'info is every severity');
});

t.test('--action: rows by their own action under --flatten; a batch line not flattened has none', async (t) => {
  const input = RESULT('q', 'added') + RESULT('q', 'removed') + BATCH + SNAPSHOT + GLOG;
  const added = convert(input, shape({ actions: new Set(['added']) }));
  t.same(added.events.map((e) => e.action), ['added']);
  t.equal(added.stats.filtered, 1 + 1 + 1 + 4, 'removed, the batch, the snapshot, the status records');
  const flat = convert(input, { flatten: true, ...shape({ actions: new Set(['added']) }) });
  t.same(flat.events.map((e) => [e.action, e.rowIndex]), [
    ['added', undefined],
    ['added', 1],
    ['added', 2],
  ]);
  const snap = convert(input, shape({ actions: new Set(['snapshot']) }));
  t.same(snap.events.map((e) => e.kind), ['snapshot'], 'a whole snapshot line counts as snapshot');
  const empty = convert('{"snapshot":[],"action":"snapshot","name":"e","hostIdentifier":"h","unixTime":1,"epoch":0,"counter":0}\n', { flatten: true, ...shape({ actions: new Set(['snapshot']) }) });
  t.same(empty.events.map((e) => e.rowCount), [0], 'the empty-set event of a snapshot is a snapshot');
});

t.test('--add-field, --timestamp and --event-id go right after kind; values are not touched', async (t) => {
  const opts = shape({ fields: [['env', 'prod'], ['dc', 'fra "1"']], timestamp: '@timestamp', eventId: 'event_id' });
  const line = RESULT('q', 'added', '{"n":18446744073709551615}');
  const c = convert(line, opts);
  t.match(c.out, /^\{"kind":"result","@timestamp":"2026-11-25T09:11:40Z","event_id":"[0-9a-f]{32}","env":"prod","dc":"fra \\"1\\"","name":"q",/);
  t.match(c.out, /"columns":\{"n":18446744073709551615\}/, 'the line after them is its own bytes');
  const want = createHash('sha256').update('"result"\n' + line.trimEnd() + '\n').digest('hex').slice(0, 32);
  t.equal(c.events[0]!.event_id, want, 'the id of a whole line: kind and the line as it stands');
  const old = convert(RESULT('q', 'added', '{}', '"1514472008"'), opts);
  t.equal(old.events[0]!['@timestamp'], '2017-12-28T14:40:08Z', 'unixTime as a string (osquery <= 3.1)');
  const none = convert('{"name":"q","columns":{},"action":"added"}\n', opts);
  t.notOk('@timestamp' in none.events[0]!, 'no unixTime, no time');
  t.equal(none.events[0]!.env, 'prod');
});

t.test('a line that has a field of an added name keeps its own, and gets ours not at all', async (t) => {
  const line = '{"name":"q","@timestamp":"mine","env":"dev","columns":{},"action":"added","unixTime":1}\n';
  const c = convert(line, shape({ fields: [['env', 'prod'], ['team', 'x']], timestamp: '@timestamp' }));
  t.equal(c.out.match(/"@timestamp"/g)?.length, 1, 'one @timestamp');
  t.equal(c.out.match(/"env"/g)?.length, 1, 'one env');
  t.equal(c.events[0]!['@timestamp'], 'mine');
  t.equal(c.events[0]!.env, 'dev');
  t.equal(c.events[0]!.team, 'x', 'the others are added');
});

t.test('glog status events: time with microseconds; ids differ by record and are the same on every run', async (t) => {
  const opts = shape({ timestamp: 'ts', eventId: 'id' });
  const a = convert(GLOG, { ...opts, zone: (await import('../lib/timezone.js')).parseZone('UTC'), now: () => Date.UTC(2026, 11, 1) });
  const b = convert(GLOG, { ...opts, now: () => Date.UTC(2026, 11, 1) });
  t.same(a.events.map((e) => e.ts), a.events.map((e) => e.time), 'the record time, microseconds and all');
  t.equal(a.events[0]!.ts, '2026-11-24T23:15:02.118467Z');
  t.same(a.events.map((e) => e.id), b.events.map((e) => e.id), 'same input, same ids');
  t.equal(new Set(a.events.map((e) => e.id)).size, 4, 'four records, four ids');
  const other = convert(GLOG.replace('started', 'started!'), { ...opts, now: () => Date.UTC(2026, 11, 1) });
  t.not(other.events[0]!.id, a.events[0]!.id, 'a different message, a different id');
  t.equal(other.events[1]!.id, a.events[1]!.id);
  const text = convert('severity=1 location=a.cpp:3 message=hi\n', opts);
  t.notOk('ts' in text.events[0]!, 'severity= text has no time');
  t.match(text.events[0]!.id, /^[0-9a-f]{32}$/);
});

t.test('row ids: the same on every run, different for every row (equal rows too), apart per run of a query', async (t) => {
  const opts = { flatten: true, ...shape({ eventId: 'event_id' }) };
  const a = convert(BATCH + SNAPSHOT, opts);
  const b = convert(BATCH + SNAPSHOT, opts);
  const ids = a.events.map((e) => e.event_id as string);
  t.same(ids, b.events.map((e) => e.event_id));
  t.equal(new Set(ids).size, 5, 'two equal rows of one snapshot differ by their index');
  const later = convert(SNAPSHOT.replace('1795598000', '1795601600'), opts);
  t.not(later.events[0]!.event_id, ids[3], 'the next run of the snapshot, another id');
  const want = createHash('sha256')
    .update(['"snapshot"', '"h"', '"pack_inv_debs"', '0', '0', '"1795598000"', '"snapshot"', '0', '{"x":"1"}'].map((p) => p + '\n').join(''))
    .digest('hex')
    .slice(0, 32);
  t.equal(ids[3], want, 'the man page recipe for rows');
  const unparsed = convert('junk\n', shape({ eventId: 'event_id' }), 'x.log');
  const u = createHash('sha256').update('"unparsed"\n"x.log"\n1\n"junk"\n').digest('hex').slice(0, 32);
  t.equal(unparsed.events[0]!.event_id, u, 'an unparsed line: file, line, raw');
});

t.test('the command line: flags, usage errors naming the flag and the values', async (t) => {
  const input = RESULT('pack_a_b', 'added') + RESULT('x', 'removed') + GLOG;
  const r = await cli(['--query', 'pack_*', '--timestamp', '--event-id=uid', '--add-field', 'env=prod', '--stats=json'], input);
  const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  t.equal(events.length, 1);
  t.ok(events[0]['@timestamp'] && events[0].uid && events[0].env === 'prod');
  const stats = JSON.parse(r.stderr);
  t.equal(stats.events, 1);
  t.equal(stats.events_filtered, 5, 'the JSON counters are the real ones');
  const kinds = await cli(['--kind', 'status', '--kind', 'result', '--min-severity', 'error'], input);
  t.equal(kinds.stdout.trimEnd().split('\n').length, 4, '2 results and the error and fatal records');
  const bad = [
    [['--kind', 'status,bogus'], /--kind.*'bogus' is not one of result, batch, snapshot, status, unparsed/],
    [['--action', 'changed'], /--action.*'changed' is not one of added, removed, snapshot/],
    [['--min-severity', 'debug'], /--min-severity.*Allowed choices are info, warning, error, fatal/],
    [['--add-field', 'novalue'], /--add-field.*KEY=VALUE/],
    [['--add-field', 'a=1', '--add-field', 'a=2'], /'a' is given twice/],
    [['--add-field', 'message=x'], /'message' is a field oqfwd writes itself/],
    [['--timestamp=env', '--add-field', 'env=x'], /'env' would be added twice/],
    [['--event-id='], /--event-id\[=FIELD\]': FIELD is empty/],
    [['--pretty', '-o', 'tcp://127.0.0.1:9'], /--pretty .* cannot go with -o/],
  ] as const;
  for (const [args, want] of bad) {
    const u = await cli([...args], '');
    t.equal(u.code, 2, args.join(' '));
    t.match(u.stderr, want, args.join(' '));
  }
  const file = await cli(['--timestamp', 'samples/osqueryd.results.log']);
  t.equal(file.code, 0, 'a bare --timestamp does not take the FILE after it');
  t.match(file.stdout, /"@timestamp":/);
});
