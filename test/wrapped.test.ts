// osquery's lines behind the prefixes they get on the way to a syslog file or out of the
// journal. The wrappers are made from their formats' documentation:
// - RFC 3164 section 5.4 (`<34>Oct 11 22:14:15 mymachine su: ...`) and the traditional file
//   format without `<PRI>`, which rsyslog and journalctl's `short` write;
// - RFC 5424 section 6.5 (`<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ...`,
//   with structured data `[exampleSDID@32473 iut="3" ...]` and a byte order mark);
// - journalctl(1) of systemd 252 and its src/shared/logs-show.c: short ("%b %d %H:%M:%S"),
//   short-precise (".%06u" after it), short-iso ("%Y-%m-%dT%H:%M:%S%z", since systemd 255
//   "%+03d:%02d"), short-iso-precise, short-full ("Mon 2026-11-16 07:43:35 CET"), short-unix
//   ("%10u.%06u"), cat (the message alone) and json (one object per entry, MESSAGE a string,
//   an array of bytes for non-UTF-8 or unprintable text, null over 4096 bytes without --all);
// - osquery 1.x's syslog logger, `syslog(LOG_INFO, "result=%s", line)`.
// The glog lines are shaped as osquery's filesystem logger writes them (see glog.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parseZone } from '../lib/timezone.js';
import { convert } from './helpers.js';

const GLOG = 'I1116 07:43:35.080093  1229 database.cpp:570] Checking database version for migration';
const paris = { zone: parseZone('Europe/Paris'), host: 'fallback', now: () => Date.UTC(2026, 11, 1) };
/** What `date -d` makes of a time stamp: the seconds since the epoch, from another implementation. */
const dateD = (stamp: string): number => Number(spawnSync('date', ['-d', stamp, '+%s'], { encoding: 'utf8', env: { TZ: 'Europe/Paris' } }).stdout.trim());

t.test('a glog line behind each text wrapper is a status event, at the time the wrapper gives where it has a date and zone', async (t) => {
  // [wrapper, host, the moment the wrapper names (for date -d), or null where it has no year]
  const cases: Array<[string, string, string | null]> = [
    ['Nov 16 07:43:35 osqueryclient osqueryd[1226]: ', 'osqueryclient', null], // short, RFC 3164 file format
    ['<30>Nov 16 07:43:35 osqueryclient osqueryd[1226]: ', 'osqueryclient', null], // RFC 3164 on the wire
    ['Nov 16 07:43:35.080093 osqueryclient osqueryd[1226]: ', 'osqueryclient', null], // short-precise
    ['Nov 16 2026 07:43:35 osqueryclient osqueryd[1226]: ', 'osqueryclient', '2026-11-16 07:43:35'], // with a year
    ['2026-11-16T07:43:35+0100 osqueryclient osqueryd[1226]: ', 'osqueryclient', '2026-11-16T07:43:35+0100'], // short-iso, systemd < 255
    ['2026-11-16T07:43:35+01:00 osqueryclient osqueryd[1226]: ', 'osqueryclient', '2026-11-16T07:43:35+01:00'], // short-iso
    ['2026-11-16T07:43:35.082423+01:00 db-2 osqueryd[1226]: ', 'db-2', '2026-11-16T07:43:35.082423+01:00'], // short-iso-precise, rsyslog
    ['2026-11-16T06:43:35.082423Z db-2 osqueryd[1226]: ', 'db-2', '2026-11-16T06:43:35Z'],
    ['Mon 2026-11-16 07:43:35 CET osqueryclient osqueryd[1226]: ', 'osqueryclient', '2026-11-16 07:43:35'], // short-full
    ['1794811415.082423 osqueryclient osqueryd[1226]: ', 'osqueryclient', '@1794811415'], // short-unix
    ['<30>1 2026-11-16T07:43:35.082423+01:00 osqueryclient osqueryd 1226 - - ', 'osqueryclient', '2026-11-16T07:43:35+01:00'], // RFC 5424
    ['<30>1 2026-11-16T07:43:35.003+01:00 mymachine.example.com osqueryd 1226 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] \xef\xbb\xbf', 'mymachine.example.com', '2026-11-16T07:43:35+01:00'],
    ['<30>1 2026-11-16T07:43:35Z h osqueryd - - [x@1 a="q\\"]"] ', 'h', '2026-11-16T07:43:35Z'],
  ];
  for (const [prefix, host, stamp] of cases) {
    // A line written on a host whose clock is an hour ahead of UTC, as the wrappers' times are.
    const glog = stamp !== null && stamp.endsWith('Z') ? GLOG.replace('07:43', '06:43') : GLOG;
    const r = convert(Buffer.from(prefix + glog + '\n', 'latin1'), paris);
    const e = r.events[0]!;
    t.match(e, { kind: 'status', hostIdentifier: host, severity: 0, filename: 'database.cpp', line: 570, message: 'Checking database version for migration', threadId: '1229' }, prefix);
    t.equal(r.stats.linesStatus, 1, `${prefix}: counted as a status line`);
    if (stamp !== null) {
      t.equal(e.unixTime, dateD(stamp), `${prefix}: the time is the wrapper's (date -d '${stamp}')`);
      t.equal(e.time, new Date(dateD(stamp) * 1000).toISOString().replace('.000Z', '.080093Z'), `${prefix}: with glog's microseconds`);
    } else {
      // No year, no zone: the glog line's own wall time in --tz, as for a bare glog line.
      t.equal(e.unixTime, dateD('2026-11-16 07:43:35'), `${prefix}: glog's time in the zone given`);
    }
  }
});

t.test("journalctl's cat format is the bare line; a wrapper's host gives way to a glog header's", async (t) => {
  const r = convert(`${GLOG}\nLog file created at: 2026/11/16 07:00:00\nRunning on machine: from-header\nNov 16 07:43:35 from-syslog osqueryd[1]: ${GLOG}\n`, paris);
  t.same(r.events.map((e) => e.hostIdentifier), ['fallback', 'from-header']);
});

t.test('a wrapped glog message over several entries is one event; the continuation loses its prefix', async (t) => {
  const r = convert(
    [
      '2026-11-16T07:43:35.082423+01:00 h osqueryd[1226]: E1116 07:43:35.082423  1229 tables.cpp:97] Error executing query:',
      '2026-11-16T07:43:35.082440+01:00 h osqueryd[1226]: no such table: curl_certificate',
      'Nov 16 07:43:36 h kernel: [  1.2] usb 1-1: new device',
      '',
    ].join('\n'),
    paris,
  );
  t.equal(r.events.length, 2);
  t.match(r.events[0], { severity: 2, message: 'Error executing query:\nno such table: curl_certificate' });
  t.match(r.events[1], { kind: 'unparsed', line: 3, reason: 'not an osquery line' });
  t.same([r.stats.linesStatus, r.stats.linesContinuation, r.stats.linesUnparsed], [1, 1, 1]);
});

t.test("a glog line far from its wrapper's time is given the wrapper's time, not a guess", async (t) => {
  // A file replayed into syslog a week later: its own time stamps are not the wrapper's moment.
  const r = convert(`2026-11-23T07:43:35.5Z h osqueryd[1]: ${GLOG}\n`, paris);
  t.equal(r.events[0]!.unixTime, dateD('2026-11-23T07:43:35Z'));
  t.equal(r.events[0]!.time, '2026-11-23T07:43:35.500000Z');
});

t.test("osquery 1.x's syslog result= lines are result events, wrapped or not", async (t) => {
  const record = '{"name":"pack_it_usb","hostIdentifier":"h","calendarTime":"Mon Nov 16 06:43:35 2015 UTC","unixTime":"1447656215","columns":{"model":"x"},"action":"added"}';
  const r = convert(`Nov 16 07:43:35 h osqueryd[1226]: result=${record}\nresult=${record}\n`, paris);
  t.same(r.events.map((e) => [e.kind, e.name, e.unixTime]), [
    ['result', 'pack_it_usb', 1447656215],
    ['result', 'pack_it_usb', 1447656215],
  ]);
  t.equal(r.stats.linesResult, 2);
});

t.test('journalctl -o json: MESSAGE carried at the entry time and host, in each form journalctl writes', async (t) => {
  const entry = (fields: Record<string, unknown>): string => JSON.stringify({ __CURSOR: 's=1;i=2', __REALTIME_TIMESTAMP: '1794811415082423', __MONOTONIC_TIMESTAMP: '1', _BOOT_ID: 'b', _HOSTNAME: 'jhost', _PID: '1226', SYSLOG_IDENTIFIER: 'osqueryd', ...fields });
  const bytes = [...Buffer.from('E1116 07:43:35.080093  1229 d.cpp:5] bad \x1b[m byte \xff', 'latin1')];
  const lines = [
    entry({ MESSAGE: GLOG }),
    entry({ MESSAGE: GLOG, _SOURCE_REALTIME_TIMESTAMP: '1794811415080100' }),
    entry({ MESSAGE: bytes }), // unprintable or not UTF-8: an array of bytes
    entry({ MESSAGE: ['first', GLOG] }), // a field that repeats: the last, as with keys
    entry({ MESSAGE: '{"name":"q","hostIdentifier":"h","unixTime":1,"columns":{"a":"1"},"action":"added"}' }),
    entry({ MESSAGE: 'severity=1 location=scheduler.cpp:102 message=Scheduled query may have failed: q' }),
    entry({ MESSAGE: null }), // over 4096 bytes without --all
    entry({ MESSAGE: 'hello from another program' }),
  ];
  const r = convert(lines.join('\n') + '\n', paris);
  const at = dateD('@1794811415');
  t.match(r.events[0], { kind: 'status', hostIdentifier: 'jhost', unixTime: at, time: '2026-11-16T06:43:35.080093Z', message: 'Checking database version for migration' });
  t.match(r.events[1], { unixTime: at, hostIdentifier: 'jhost' });
  t.match(r.events[2], { kind: 'status', severity: 2, filename: 'd.cpp', message: 'bad \x1b[m byte \ufffd' });
  t.match(r.events[3], { kind: 'status', line: 570 });
  t.match(r.events[4], { kind: 'result', name: 'q', hostIdentifier: 'h' });
  t.match(r.events[5], { kind: 'status', hostIdentifier: 'jhost', severity: 1, unixTime: at, time: '2026-11-16T06:43:35.082423Z', message: 'Scheduled query may have failed: q' });
  t.match(r.events[6], { kind: 'unparsed', line: 7, reason: /journal entry without its MESSAGE .*--all/ });
  t.match(r.events[7], { kind: 'unparsed', line: 8, reason: 'not an osquery line' });
  t.match(r.reports, /in\.log:7: journal entry without its MESSAGE/);
  t.same([r.stats.linesStatus, r.stats.linesResult, r.stats.linesUnparsed], [5, 1, 2], 'every line counted once');
});

t.test("lines others published: systemctl status's journal lines of osqueryd (../shared/corpus/others, where present)", async (t) => {
  const path = fileURLToPath(new URL('../../../shared/corpus/others/07b-hocchudong-journal-glog.log', import.meta.url));
  if (!existsSync(path)) {
    t.comment(`not here: ${path}`);
    t.pass('nothing to read');
    return;
  }
  const text = readFileSync(path);
  const n = text.toString('latin1').split('\n').filter((l) => l !== '').length;
  const r = convert(text, paris);
  t.equal(r.stats.linesStatus, n, 'every line a status line');
  t.ok(r.events.every((e) => e.kind === 'status' && e.hostIdentifier === 'osqueryclient' && typeof e.threadId === 'string'), 'of osqueryclient, with their thread ids');
});
