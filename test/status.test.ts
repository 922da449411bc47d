import t from 'tap';
import { fromBinary, needsEscape, toBinary } from '../lib/json-raw.js';
import { OutputBuffer } from '../lib/output-buffer.js';
import { StatusClock, writeStatus, type StatusRecord } from '../lib/status.js';
import { parseZone } from '../lib/timezone.js';
import { convert } from './helpers.js';
import { LINES } from './fixtures.js';

const UTC = parseZone('UTC');

/** The event writeStatus makes of `r`, parsed. */
function statusEvent(r: StatusRecord): Record<string, unknown> {
  const out = new OutputBuffer(8);
  writeStatus(out, r);
  const text = Buffer.concat(out.take()).toString('utf8');
  if (!text.endsWith('}\n') || text.indexOf('\n') !== text.length - 1) throw new Error(`not one NDJSON line: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

const record = (over: Partial<StatusRecord>): StatusRecord => ({ hostIdentifier: 'h', utcMs: 0, micros: 0, severity: 0, filename: 'f.cpp', line: 1, message: 'm', threadId: '1', plain: true, ...over });

t.test("calendarTime is osquery's asctime form", async (t) => {
  t.equal(statusEvent(record({ utcMs: Date.UTC(2019, 10, 25, 9, 11, 40) })).calendarTime, 'Mon Nov 25 09:11:40 2019 UTC');
  t.equal(statusEvent(record({ utcMs: Date.UTC(2017, 11, 7, 12, 21, 20) })).calendarTime, 'Thu Dec  7 12:21:20 2017 UTC', 'space-padded day');
});

t.test('writeStatus agrees with Date on 3000 seeded instants, 1901 to 2200, and with JSON on every field', async (t) => {
  let seed = 7;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
  const host = ['web-01', 'h"q', 'ünï'];
  let bad = 0;
  for (let i = 0; i < 3000; i++) {
    const utcMs = (rand(300 * 366) - 69 * 366) * 86400000 + rand(86400) * 1000 + rand(1000);
    const micros = rand(1000000);
    const line = rand(3) === 0 ? -rand(100) : rand(1e9);
    const message = rand(2) === 0 ? 'plain text' : 'tab\there "quoted" \\ back\nslash';
    const r = record({ hostIdentifier: toBinary(host[rand(3)]!), utcMs, micros, severity: rand(4), line, message, plain: !needsEscape(message) });
    const d = new Date(utcMs);
    const [wd, day, mon, year, hms] = d.toUTCString().replace(',', '').split(' ') as [string, string, string, string, string];
    const want = {
      kind: 'status',
      hostIdentifier: fromBinary(r.hostIdentifier),
      calendarTime: `${wd} ${mon} ${day.replace(/^0/, ' ')} ${hms} ${year} UTC`,
      unixTime: Math.floor(utcMs / 1000),
      severity: r.severity,
      filename: 'f.cpp',
      line,
      message,
      threadId: '1',
      time: d.toISOString().slice(0, 19) + '.' + String(micros).padStart(6, '0') + 'Z',
    };
    const got = statusEvent(r);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      if (bad++ === 0) t.same(got, want, `instant ${utcMs}`);
    }
  }
  t.equal(bad, 0, 'every event as Date and JSON.stringify would have it');
});

t.test('a record without time or thread has neither field', async (t) => {
  t.same(Object.keys(statusEvent(record({ utcMs: null, micros: null, threadId: null }))), ['kind', 'hostIdentifier', 'severity', 'filename', 'line', 'message']);
});

const header05 = [
  'Log file created at: 2026/11/24 23:15:02',
  'Running on machine: web-01',
  'Running duration (h:mm:ss): 0:00:00',
  'Log line format: [IWEF]yyyymmdd hh:mm:ss.uuuuuu threadid file:line] msg',
];
const header03 = ['Log file created at: 2019/11/25 09:11:40', 'Running on machine: mac-02', 'Log line format: [IWEF]mmdd hh:mm:ss.uuuuuu threadid file:line] msg'];

t.test('a glog file with a 0.5 header: one event per record, every line accounted for', async (t) => {
  const r = convert([...header05, 'I1124 23:15:02.118467  1184 init.cpp:418] osquery initialized [version=5.14.1]', 'W1124 23:15:03.004512  1201 scheduler.cpp:102] slow'].join('\n') + '\n');
  t.equal(r.events.length, 2);
  t.same(r.events[0], {
    kind: 'status',
    hostIdentifier: 'web-01',
    calendarTime: 'Tue Nov 24 23:15:02 2026 UTC',
    unixTime: 1795562102,
    severity: 0,
    filename: 'init.cpp',
    line: 418,
    message: 'osquery initialized [version=5.14.1]',
    threadId: '1184',
    time: '2026-11-24T23:15:02.118467Z',
  });
  t.equal(r.events[1]!.severity, 1);
  t.same([r.stats.linesHeader, r.stats.linesStatus, r.stats.events], [4, 2, 2]);
});

t.test('a glog 0.3/0.4 header gives year and host the same way', async (t) => {
  const r = convert([...header03, 'E1125 09:11:40.000001 2032685056 tables.cpp:97] boom'].join('\n'), { host: 'flag-host' });
  t.equal(r.events[0]!.calendarTime, 'Mon Nov 25 09:11:40 2019 UTC');
  t.equal(r.events[0]!.hostIdentifier, 'mac-02', 'the header wins over --host');
  t.equal(r.stats.linesHeader, 3);
});

t.test('a file that spans New Year', async (t) => {
  const r = convert(['Log file created at: 2025/12/31 23:59:58', 'I1231 23:59:59.999999 1 a.cpp:1] old year', 'I0101 00:00:00.000001 1 a.cpp:2] new year'].join('\n'));
  t.same(r.events.map((e) => e.time), ['2025-12-31T23:59:59.999999Z', '2026-01-01T00:00:00.000001Z']);
});

t.test('a file named with its date and no header', async (t) => {
  const r = convert('I0301 10:00:00.000000 1 a.cpp:1] x\n', { host: 'named' }, '/var/log/osquery/osqueryd.INFO.20210301-095959.42');
  t.equal(r.events[0]!.time, '2021-03-01T10:00:00.000000Z');
  t.equal(r.events[0]!.hostIdentifier, 'named', '--host when no header names the machine');
});

t.test('no header, no dated name: the current year, unless that lies in the future', async (t) => {
  const now = Date.UTC(2027, 0, 10, 12); // 10 Jan 2027
  const thisYear = convert('I0105 10:00:00.000000 1 a.cpp:1] x\n', { now: () => now });
  t.equal(thisYear.events[0]!.time, '2027-01-05T10:00:00.000000Z');
  const lastYear = convert('I1230 10:00:00.000000 1 a.cpp:1] x\nI0102 10:00:00.000000 1 a.cpp:1] y\n', { now: () => now });
  t.same(lastYear.events.map((e) => e.time), ['2026-12-30T10:00:00.000000Z', '2027-01-02T10:00:00.000000Z']);
  t.equal(new StatusClock(UTC, () => now).resolve(1, 10, 13, 0, 0, 0), Date.UTC(2027, 0, 10, 13), 'an hour ahead is clock skew, not last year');
});

t.test('--tz with a zone that has DST', async (t) => {
  const input = ['Log file created at: 2026/03/29 00:00:00', 'I0329 01:30:00.000000 1 a.cpp:1] CET', 'I0329 03:30:00.000000 1 a.cpp:1] CEST', 'I0329 02:30:00.000000 1 a.cpp:1] in the gap'].join('\n');
  const r = convert(input, { zone: parseZone('Europe/Berlin') });
  t.same(r.events.map((e) => e.time), ['2026-03-29T00:30:00.000000Z', '2026-03-29T01:30:00.000000Z', '2026-03-29T01:30:00.000000Z']);
  t.same(r.events.map((e) => e.unixTime), [1774744200, 1774747800, 1774747800]);
});

t.test('multi-line messages: continuation lines, blank lines inside, end of input', async (t) => {
  const r = convert(
    [
      'I1124 23:16:02.457120  1203 distributed.cpp:155] Executing distributed query: SELECT name',
      'FROM processes',
      '',
      'WHERE on_disk = 0;',
      'F1124 23:16:03.000000  1203 init.cpp:600] Check failed: x',
      '*** Check failure stack trace: ***',
      '    @     0x55d5c6a1b2c3  google::LogMessage::Fail()',
    ].join('\n'),
    { host: 'h' },
  );
  t.same(r.events.map((e) => e.message), [
    'Executing distributed query: SELECT name\nFROM processes\n\nWHERE on_disk = 0;',
    'Check failed: x\n*** Check failure stack trace: ***\n    @     0x55d5c6a1b2c3  google::LogMessage::Fail()',
  ]);
  t.same([r.stats.linesStatus, r.stats.linesContinuation, r.stats.linesBlank, r.stats.linesUnparsed], [2, 5, 0, 0]);
});

t.test('a blank line after a record is not part of it when nothing follows', async (t) => {
  const r = convert('I0101 00:00:00.000000 1 a.cpp:1] x\n\n\n' + LINES.event + '\n');
  t.equal(r.events[0]!.message, 'x');
  t.same([r.stats.linesBlank, r.stats.linesContinuation], [2, 0]);
});

t.test('CRLF glog files', async (t) => {
  const r = convert([...header05, 'I1124 23:15:02.118467  1184 init.cpp:418] crlf', 'next line'].join('\r\n') + '\r\n');
  t.equal(r.events[0]!.message, 'crlf\nnext line');
  t.notMatch(r.out, /\\r/);
});

t.test('CR-only glog files: each record on its own, a CR inside a message kept', async (t) => {
  const r = convert('Log file created at: 2026/11/16 07:00:00\rRunning on machine: cr-host\rI1116 07:43:35.080093  1229 a.cpp:1] one\rE1116 07:43:36.080093  1229 b.cpp:2] two has a \r inside\r', { now: () => Date.UTC(2026, 11, 1) });
  t.same(r.events.map((e) => [e.hostIdentifier, e.severity, e.line, e.message]), [
    ['cr-host', 0, 1, 'one'],
    ['cr-host', 2, 2, 'two has a \r inside'],
  ]);
  t.same([r.stats.linesHeader, r.stats.linesStatus, r.stats.linesUnparsed], [2, 2, 0]);
});

t.test('JSON status records, <= 5.9 strings and >= 5.10 numbers, come out alike', async (t) => {
  const r = convert(LINES.status59 + '\n' + LINES.status510 + '\n');
  for (const e of r.events) {
    t.equal(e.kind, 'status');
    t.type(e.unixTime, 'number');
    t.type(e.severity, 'number');
    t.type(e.line, 'number');
  }
  t.same(r.events[0]!.decorations, { host_uuid: 'u' }, 'other fields kept');
});

t.test('severity= text from the stdout and syslog plugins', async (t) => {
  const r = convert(
    [
      'severity=0 location=init.cpp:340 message=osquery initialized [version=5.14.1]',
      'Nov 25 09:11:40 db-2 osqueryd[77]: severity=2 location=tables.cpp:97 message=Error: x=1',
      '2026-11-25T09:11:41.5+01:00 db-3 osqueryd[77]: severity=1 location=a.cpp:1 message=',
    ].join('\n'),
    { host: 'here', now: () => Date.UTC(2026, 10, 27) },
  );
  t.same(r.events[0], { kind: 'status', hostIdentifier: 'here', severity: 0, filename: 'init.cpp', line: 340, message: 'osquery initialized [version=5.14.1]' });
  t.match(r.events[1], { hostIdentifier: 'db-2', calendarTime: 'Wed Nov 25 09:11:40 2026 UTC', severity: 2, filename: 'tables.cpp', line: 97, message: 'Error: x=1' });
  t.match(r.events[2], { hostIdentifier: 'db-3', unixTime: 1795594301, severity: 1, message: '' });
});

t.test('a mixed stream: results, snapshots, status text and JSON, each recognised', async (t) => {
  const r = convert(
    [
      LINES.event,
      'severity=0 location=init.cpp:340 message=osquery initialized',
      LINES.snapshot,
      'I1124 23:15:02.118467  1184 init.cpp:418] glog line',
      'its continuation',
      LINES.batch,
      LINES.status510,
      'Nov 25 09:11:40 db-2 osqueryd[77]: ' + LINES.event,
      'garbage',
    ].join('\n'),
  );
  t.same(r.events.map((e) => e.kind), ['result', 'status', 'snapshot', 'status', 'batch', 'status', 'result', 'unparsed']);
  t.equal(r.events[3]!.message, 'glog line\nits continuation');
  t.same([r.stats.linesResult, r.stats.linesSnapshot, r.stats.linesBatch, r.stats.linesStatus, r.stats.linesContinuation, r.stats.linesUnparsed], [2, 1, 1, 3, 1, 1]);
});

t.test('a runaway continuation is bounded by --max-line', async (t) => {
  const r = convert(['I0101 00:00:00.000000 1 a.cpp:1] start', 'a'.repeat(600), 'b'.repeat(600)].join('\n'), { maxLine: 1000 });
  t.same(r.events.map((e) => e.kind), ['status', 'unparsed']);
  t.equal((r.events[0]!.message as string).length, 'start\n'.length + 600);
});

t.test('status line numbers are valid JSON and exact, however long; only decimal digits are a line', async (t) => {
  const long = '9'.repeat(400);
  const r = convert(
    [
      `I1116 07:43:35.080093  1229 database.cpp:${long}] four hundred digits`,
      'I1116 07:43:35.080093  1229 database.cpp:00012345678901234567890] twenty digits, leading zeros',
      'severity=1 location=a.cpp:98765432109876543210 message=twenty',
      'severity=1 location=a.cpp:1e5 message=an exponent is not a line number',
      'severity=1 location=a.cpp: message=no line number',
      'severity=1 location=a.cpp:0x10 message=hex',
      '',
    ].join('\n'),
    { now: () => Date.UTC(2026, 11, 1) },
  );
  const lines = r.out.split('\n');
  t.match(lines[0], `"line":${long},`, 'the 400 digits as written');
  t.match(lines[1], '"line":12345678901234567890,', 'twenty digits exact, no leading zeros (JSON has none)');
  t.match(lines[2], '"line":98765432109876543210,');
  t.notMatch(r.out, /Infinity|NaN|e\+/, 'never a value JSON has not');
  t.same(r.events.slice(3).map((e) => [e.kind, e.line]), [
    ['unparsed', 4],
    ['unparsed', 5],
    ['unparsed', 6],
  ]);
  t.match(r.events[3], { reason: /severity= text not of the form severity=N location=FILE:LINE message=TEXT \(LINE in decimal digits\)/ });
  t.same([r.stats.linesStatus, r.stats.linesUnparsed], [3, 3]);
});
