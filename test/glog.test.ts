import t from 'tap';
import { dateFromFileName, looksLikeGlog, parseGlogHeader, parseGlogLine } from '../lib/glog.js';

t.test('parses glog lines with every thread id padding', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['I0905 13:07:11.418467  4776 init.cpp:340] osquery initialized [version=4.2.0]', '4776', 'init.cpp'], // Windows, seen
    ['I1015 10:36:06.894544 2032685056 init.cpp:263] x', '2032685056', 'init.cpp'], // macOS, 10 digits
    ['W0101 00:00:00.000000     7 a.cpp:1] x', '7', 'a.cpp'],
    ['E1231 23:59:59.999999 0x7f3a2c1ff700 virtual_table.cpp:1017] x', '0x7f3a2c1ff700', 'virtual_table.cpp'],
    ['F0229 12:00:00.500000 7f3a2c1ff700 my-ext.v2.cpp:12] x', '7f3a2c1ff700', 'my-ext.v2.cpp'],
  ];
  for (const [line, tid, file] of cases) {
    const g = parseGlogLine(line);
    t.ok(g, line);
    t.equal(g?.threadId, tid);
    t.equal(g?.filename, file);
    t.ok(looksLikeGlog(line));
  }
  t.same(parseGlogLine('I0905 13:07:11.418467  4776 init.cpp:340] osquery initialized [version=4.2.0]'), {
    severity: 0,
    month: 9,
    day: 5,
    hour: 13,
    minute: 7,
    second: 11,
    micros: 418467,
    threadId: '4776',
    filename: 'init.cpp',
    line: 340,
    message: 'osquery initialized [version=4.2.0]',
  });
  t.same(
    ['I', 'W', 'E', 'F'].map((s) => parseGlogLine(`${s}0101 00:00:00.000000 1 a.cpp:1] m`)?.severity),
    [0, 1, 2, 3],
  );
  t.equal(parseGlogLine('I0101 00:00:00.000000 1 a.cpp:1]')?.message, '', 'empty message');
  t.equal(parseGlogLine('I0101 00:00:00.000000 1 a.cpp:1] a ] b: c')?.message, 'a ] b: c', 'brackets in the message');
});

t.test('refuses what is not a glog line', async (t) => {
  for (const s of [
    'Info: something',
    'I1301 00:00:00.000000 1 a.cpp:1] bad month',
    'I0101 00:00:00.00000 1 a.cpp:1] short micros',
    'I0101 00:00:00.000000 a.cpp:1] no thread',
    'I0101 00:00:00.000000 1 a.cpp] no line',
    'I0101 00:00:00.000000 1 a.cpp:x] bad line',
    'X0101 00:00:00.000000 1 a.cpp:1] bad severity',
    'I0101',
  ]) {
    t.equal(parseGlogLine(s), null, s);
  }
});

t.test('header lines of glog 0.3 to 0.5', async (t) => {
  t.same(parseGlogHeader('Log file created at: 2024/01/31 23:59:58'), { type: 'created', year: 2024, month: 1 });
  t.same(parseGlogHeader('Running on machine: WIN-7QK3M2'), { type: 'machine', host: 'WIN-7QK3M2' });
  t.same(parseGlogHeader('Running duration (h:mm:ss): 0:00:00'), { type: 'other' });
  t.same(parseGlogHeader('Log line format: [IWEF]mmdd hh:mm:ss.uuuuuu threadid file:line] msg'), { type: 'other' });
  t.same(parseGlogHeader('Log line format: [IWEF]yyyymmdd hh:mm:ss.uuuuuu threadid file:line] msg'), { type: 'other' });
  t.same(parseGlogHeader('Application fingerprint: abc'), { type: 'other' });
  t.equal(parseGlogHeader('Log file created at: yesterday'), null);
  t.equal(parseGlogHeader('Running late'), null);
});

t.test('dates in glog file names', async (t) => {
  t.same(dateFromFileName('/var/log/osquery/osqueryd.INFO.20261125-091140.1184'), { year: 2026, month: 11 });
  t.same(dateFromFileName('osqueryd.WARNING.20191231-235959.7'), { year: 2019, month: 12 });
  t.equal(dateFromFileName('osqueryd.INFO'), null);
  t.equal(dateFromFileName('osqueryd.results.log'), null);
});

t.test('a line read in place inside a larger string never reads past its end', async (t) => {
  const line = 'I0905 13:07:11.418467  4776 init.cpp:340] osquery initialized';
  const text = `x\n${line}\nE0101 00:00:00.000000 1 b.cpp:2] next`;
  const from = 2;
  t.same(parseGlogLine(text, from, from + line.length), parseGlogLine(line));
  t.equal(parseGlogLine(text, from, from + line.length)?.message, 'osquery initialized', 'the message ends with the line');
  const cut = 'I0101 00:00:00.000000 1 a.cpp:1';
  for (let end = 0; end <= cut.length; end++) {
    t.equal(parseGlogLine(`${cut}] m\n`.slice(0, end) + '\n5 z.cpp:9] m', 0, end), null, `cut after ${end} characters`);
  }
  t.equal(parseGlogLine('I0101 00:00:00.000000\n1 a.cpp:1] m', 0, 21), null, 'the thread id is on the next line');
});
