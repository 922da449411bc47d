import t from 'tap';
import { unwrapSyslog } from '../lib/syslog.js';

const payload = '{"name":"q"}';

t.test('unwraps the usual syslog prefixes', async (t) => {
  const cases: Array<[string, string]> = [
    ['Nov 27 21:07:58 web-01 osqueryd[1184]: ', 'web-01'],
    ['Nov  7 01:02:03 web-01 osqueryd[1184]: @cee:', 'web-01'],
    ['Nov  7 01:02:03 web-01 osqueryd[1184]: @cee: ', 'web-01'],
    ['2026-11-27T21:07:58.123456+00:00 db-2 osqueryd[77]: ', 'db-2'],
    ['2026-11-27T21:07:58Z db-2 osqueryd[77]: ', 'db-2'],
    ['<158>Nov 27 21:07:58 h osqueryd[1]: ', 'h'],
    ['<158>1 2026-11-27T21:07:58.1Z h osqueryd[1]: ', 'h'],
  ];
  for (const [prefix, host] of cases) {
    const w = unwrapSyslog(prefix + payload);
    t.ok(w, prefix);
    t.equal(w && (prefix + payload).slice(w.offset), payload, prefix);
    t.equal(w?.host, host);
  }
});

t.test('leaves other lines alone', async (t) => {
  t.equal(unwrapSyslog(payload), null);
  t.equal(unwrapSyslog('I1125 09:11:40.123456  4776 init.cpp:340] osquery initialized'), null);
  t.equal(unwrapSyslog('Foo 16 07:43:35 h osqueryd[1]: x'), null, 'not a month');
  // Another program's line is wrapped too: what it carries is not osquery's (the converter says so).
  const k = 'Nov 27 21:07:58 web-01 kernel: [1.2] usb 1-1: new device';
  t.equal(k.slice(unwrapSyslog(k)!.offset), '[1.2] usb 1-1: new device');
});

t.test("RFC 5424: the message after the structured data; the nil time stamp is no time", async (t) => {
  for (const prefix of ['<14>1 - - - - - - ', '<14>1 2026-11-27T21:07:58Z h app 1 ID47 [a@1 k="v\\"]"][b@2] ']) {
    const w = unwrapSyslog(prefix + payload);
    t.equal(w && (prefix + payload).slice(w.offset), payload, prefix);
  }
  t.equal(unwrapSyslog('<14>1 - - - - - -')?.time, null);
  t.same(unwrapSyslog('<14>1 2026-11-27T21:07:58Z h app 1 - - x')?.source, 'h app 1');
});
