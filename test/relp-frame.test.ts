// RELP framing: the server's frames parsed across any chunk boundary, bad framing refused,
// and our syslog frames as librelp's doc/relp.md describes them.
import t from 'tap';
import { frame, FrameReader, RelpProtocolError, responseStatus, statusCode, syslogFrames } from '../lib/output/relp-frame.js';
import { parseDestination, describeDestination } from '../lib/output/destination.js';
import { Backoff, BACKOFF_MAX_MS, BACKOFF_MIN_MS, tlsFailure } from '../lib/output/connect.js';

const stream = '1 rsp 37 200 OK\nrelp_version=0\ncommands=syslog\n2 rsp 6 200 OK\n0 serverclose 0\n3 rsp 20 500 command disabled\n';

t.test('frames come out whole whatever the chunking, byte at a time too', async (t) => {
  for (const step of [1, 2, 3, 7, 64, stream.length]) {
    const r = new FrameReader();
    const got = [];
    for (let i = 0; i < stream.length; i += step) got.push(...r.push(Buffer.from(stream.slice(i, i + step))));
    t.same(
      got.map((f) => [f.txnr, f.command, f.data.toString()]),
      [
        [1, 'rsp', '200 OK\nrelp_version=0\ncommands=syslog'],
        [2, 'rsp', '200 OK'],
        [0, 'serverclose', ''],
        [3, 'rsp', '500 command disabled'],
      ],
      `step ${step}`,
    );
  }
});

t.test('bad framing is a protocol error, never a guess', async (t) => {
  for (const bad of ['x rsp 0\n', '1234567890 rsp 0\n', '1 rsp 3 abcd\n', '1  rsp 0\n', '1 rsp 2000000 \n', '1 rsp 0x']) {
    let caught: unknown = null;
    try {
      new FrameReader().push(Buffer.from(bad));
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof RelpProtocolError, `${JSON.stringify(bad)}: ${String(caught)}`);
  }
});

t.test('our frames: header, data length in bytes, trailer', async (t) => {
  t.equal(frame(1, 'open', 'relp_version=0').toString(), '1 open 14 relp_version=0\n');
  t.equal(frame(7, 'close', '').toString(), '7 close 0\n');
  const src = Buffer.from('{"a":"é"}\n{"b":2}\n');
  const f = syslogFrames(src, [0, 11], [10, 18], Buffer.from('<14>1 - h oqfwd - - - '), 41);
  t.equal(f.buf.toString(), '41 syslog 32 <14>1 - h oqfwd - - - {"a":"é"}\n42 syslog 29 <14>1 - h oqfwd - - - {"b":2}\n');
  t.equal(f.buf.subarray(f.msgStart[1], f.msgEnd[1]).toString(), '<14>1 - h oqfwd - - - {"b":2}');
  t.same(responseStatus(Buffer.from('200 OK\ncommands=syslog')), { code: 200, text: '200 OK', offers: 'commands=syslog' });
});

t.test('status codes read in place: three digits or none', async (t) => {
  const b = Buffer.from('x200 OK|500 no|20|2x0 OK');
  t.equal(statusCode(b, 1, 7), 200);
  t.equal(statusCode(b, 8, 14), 500);
  t.equal(statusCode(b, 15, 17), 0, 'too short');
  t.equal(statusCode(b, 18, 24), 0, 'not digits');
});

t.test('the visitor sees each frame in place; the reader keeps only an unfinished one', async (t) => {
  const r = new FrameReader();
  const seen: string[] = [];
  const visit = (txnr: number, command: string, buf: Buffer, start: number, end: number): void => {
    seen.push(`${txnr}/${command}/${buf.toString('latin1', start, end)}`);
  };
  r.feed(Buffer.from('5 rsp 6 200 OK\n6 rsp 6 20'), visit);
  t.same(seen, ['5/rsp/200 OK']);
  r.feed(Buffer.from('0 OK\n7 rsp 0\n'), visit);
  t.same(seen, ['5/rsp/200 OK', '6/rsp/200 OK', '7/rsp/']);
});

t.test('destinations: every scheme, and back', async (t) => {
  for (const d of ['tcp://h:1', 'tls://h:2', 'relp://h:3', 'relp+tls://[::1]:4']) t.equal(describeDestination(parseDestination(d)), d);
  t.same(parseDestination('h:5'), { kind: 'tcp', tls: false, host: 'h', port: 5 });
  for (const bad of ['udp://h:1', 'relp://h', 'relp://h:0', 'h:70000']) t.throws(() => parseDestination(bad), /not a destination/);
});

t.test('backoff: jittered, doubling, capped, reset', async (t) => {
  const b = new Backoff();
  const waits = Array.from({ length: 12 }, () => b.next());
  t.ok(waits[0]! >= BACKOFF_MIN_MS / 2 && waits[0]! <= BACKOFF_MIN_MS, `first ${waits[0]}`);
  t.ok(waits.every((w) => w <= BACKOFF_MAX_MS), 'capped');
  t.ok(waits[11]! >= BACKOFF_MAX_MS / 2, 'reaches the cap');
  b.reset();
  t.ok(b.next() <= BACKOFF_MIN_MS, 'reset');
});

t.test('TLS failures are named for what they are', async (t) => {
  const e = (code: string): NodeJS.ErrnoException => Object.assign(new Error('x'), { code });
  t.match(tlsFailure(e('ERR_SSL_WRONG_VERSION_NUMBER'), false), /does not speak TLS/);
  t.match(tlsFailure(e('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'), false), /protocol version refused/);
  t.match(tlsFailure(e('CERT_HAS_EXPIRED'), false), /certificate verification failed/);
  t.match(tlsFailure(e('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), true), /refused the connection/);
  t.equal(tlsFailure(e('ECONNRESET'), true), null);
});
