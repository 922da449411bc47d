// TCP output against hostile and broken receivers, in-process on loopback: what a fleet meets
// behind load balancers and overloaded collectors. Each case numbers its events and checks
// what arrived, the exit status and what stderr says.
import type { Socket } from 'node:net';
import t from 'tap';
import { arrivedIn, freePort, numbered, oqfwd, scratch, server, sleep, waitFor } from './helpers.js';

const dir = scratch('tcp-faults');

/** A receiver that reads and keeps what it read per connection; FIN answered with FIN. */
function reading(s: Socket, into: string[]): void {
  const at = into.push('') - 1;
  s.setEncoding('utf8');
  s.on('data', (d: string) => (into[at] += d));
  s.on('end', () => s.end());
}

const stats = (stderr: string, name: string): number => Number(new RegExp(`stats: ${name} +(\\d+)`).exec(stderr)?.[1]);

t.test('a receiver that reads 64 KiB, resets and goes away: exit 5 and how many may be missing, never 0', async (t) => {
  const n = 20_000;
  const rx = await server((s) => {
    let got = 0;
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= 65536) {
        s.resetAndDestroy();
        rx.close();
      }
    });
  });
  const r = await oqfwd(['--stats', '--connect-timeout', '2', '-o', `tcp://127.0.0.1:${rx.port}`, numbered(dir, n)]).done;
  t.equal(r.code, 5, 'exit 5: it could not reconnect');
  // Every event read was sent or waiting: none was confirmed; reading stopped at the failure.
  const m = /(\d+) of (\d+) events may not have arrived/.exec(r.stderr);
  const unsure = Number(m?.[1]);
  t.ok(unsure > 0 && unsure === Number(m?.[2]) && unsure <= n, `says ${unsure} may not have arrived: ${r.stderr}`);
  t.equal(stats(r.stderr, 'unconfirmed_events'), unsure, '--stats agrees');
  t.equal(stats(r.stderr, 'confirmed_events'), 0, 'nothing confirmed');
});

t.test('a receiver that accepts and never reads, small input: exit 6 after --stall-timeout', async (t) => {
  const rx = await server((s) => s.pause());
  const r = await oqfwd(['--stall-timeout', '2', '-o', `tcp://127.0.0.1:${rx.port}`, numbered(dir, 100)]).done;
  t.equal(r.code, 6);
  t.match(r.stderr, /did not close its side within 2 s/);
  t.match(r.stderr, /100 of 100 events may not have arrived/);
  t.ok(r.ms < 15000, `ended after ${r.ms} ms`);
});

t.test('a receiver that accepts and never reads, large input: stalls do not end the outage; exit 5', async (t) => {
  const rx = await server((s) => s.pause());
  const r = await oqfwd(['--stall-timeout', '1', '--connect-timeout', '3', '-o', `tcp://127.0.0.1:${rx.port}`, numbered(dir, 300_000, 40)]).done;
  t.equal(r.code, 5);
  t.match(r.stderr, /no progress for 1 s; reconnecting/);
  t.match(r.stderr, /cannot connect for \d+\.\d s/);
  t.match(r.stderr, /\d+ of \d+ events may not have arrived/);
  t.ok(rx.sockets.length <= 8, `${rx.sockets.length} connections`);
});

t.test('a receiver that accepts and closes at once: backoff grows, one line per kind of failure, exit 5', async (t) => {
  const rx = await server((s) => s.destroy());
  const r = await oqfwd(['--connect-timeout', '4', '-o', `tcp://127.0.0.1:${rx.port}`, numbered(dir, 1000)]).done;
  t.equal(r.code, 5);
  t.ok(rx.sockets.length >= 3 && rx.sockets.length <= 15, `${rx.sockets.length} connections in ${r.ms} ms`);
  const lines = r.stderr.trimEnd().split('\n');
  t.ok(lines.length <= 8, `${lines.length} lines on stderr:\n${r.stderr}`);
  t.match(r.stderr, /1000 of 1000 events may not have arrived/);
});

t.test('a receiver that half-closes (FIN) at once but keeps reading: every event once, no reconnect storm', async (t) => {
  const n = 200_000;
  const got: string[] = [];
  const rx = await server((s) => {
    reading(s, got);
    s.end();
    // About 10 MB/s: the transfer lasts seconds, long enough to show the receiver still reads.
    s.on('data', (d: string) => {
      s.pause();
      setTimeout(() => s.resume(), Buffer.byteLength(d) / 1e4);
    });
  });
  const r = await oqfwd(['--stats', '-o', `tcp://127.0.0.1:${rx.port}`, numbered(dir, n)]).done;
  t.equal(r.code, 0, r.stderr);
  await waitFor(() => rx.sockets.every((s) => s.readableEnded), 20000); // the receiver reads slowly
  const a = arrivedIn(got.join(''), n);
  t.equal(a.missing, 0, 'nothing missing');
  t.equal(a.dups, 0, 'nothing twice');
  t.ok(rx.sockets.length <= 3, `${rx.sockets.length} connections`);
  t.equal(stats(r.stderr, 'confirmed_events'), n);
});

t.test('a load balancer closing idle connections while events trickle in: each event arrives once', async (t) => {
  const got: string[] = [];
  const rx = await server((s) => {
    reading(s, got);
    s.setTimeout(1200, () => s.end());
  });
  const run = oqfwd(['--stats', '-o', `tcp://127.0.0.1:${rx.port}`], { stdin: 'pipe' });
  for (let i = 0; i < 4; i++) {
    run.child.stdin!.write(`{"name":"q","columns":{"seq":"${i}"},"action":"added"}\n`);
    await sleep(2000);
  }
  run.child.stdin!.end();
  const r = await run.done;
  t.equal(r.code, 0, r.stderr);
  const a = arrivedIn(got.join(''), 4);
  t.equal(a.missing, 0);
  t.equal(a.dups, 0, 'no event sent twice');
  t.equal(stats(r.stderr, 'events_replayed'), 0);
  t.equal(stats(r.stderr, 'reconnects'), 0, 'a quiet close is no reconnect');
  t.notMatch(r.stderr, /reconnecting/);
});

t.test('a 31 MiB event to a slow but steady receiver (4 MB/s) is delivered on one connection', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const file = `${dir}/big.log`;
  writeFileSync(file, `{"name":"big","columns":{"seq":"0","blob":"${'y'.repeat(31 * 1024 * 1024)}"},"action":"added"}\n`);
  const got: string[] = [];
  const rx = await server((s) => {
    reading(s, got);
    s.on('data', (d: string) => {
      s.pause();
      setTimeout(() => s.resume(), (Buffer.byteLength(d) / 4e6) * 1000);
    });
  });
  const r = await oqfwd(['--stall-timeout', '2', '-o', `tcp://127.0.0.1:${rx.port}`, file]).done;
  t.equal(r.code, 0, r.stderr);
  t.equal(rx.sockets.length, 1, 'one connection');
  t.notMatch(r.stderr, /no progress/);
  t.equal(arrivedIn(got.join(''), 1).missing, 0, 'the event arrived');
  t.ok(got.join('').length > 31 * 1024 * 1024, 'whole');
});

t.test('--connect-timeout bounds a TLS handshake that never gets an answer', async (t) => {
  const rx = await server(() => {}); // accepts, says nothing
  const r = await oqfwd(['--connect-timeout', '3', '-o', `tls://127.0.0.1:${rx.port}`, numbered(dir, 10)]).done;
  t.equal(r.code, 5);
  t.match(r.stderr, /no answer to the TLS handshake within/);
  t.ok(r.ms < 8000, `gave up after ${r.ms} ms`);
});

for (const [signal, code] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const) {
  t.test(`${signal} while connecting to a receiver that is down: exit ${code}, no stack trace`, async (t) => {
    const port = await freePort();
    const run = oqfwd(['--connect-timeout', '60', '-o', `tcp://127.0.0.1:${port}`, numbered(dir, 10)]);
    t.ok(await waitFor(() => /retrying/.test(run.stderr()), 10000), 'it is retrying');
    run.child.kill(signal);
    const r = await run.done;
    t.equal(r.code, code);
    t.notMatch(r.stderr, /Error|\n\s+at /, 'no stack trace');
  });
}

t.test('--stall-timeout 0 means never, and values a timer cannot hold are usage errors', async (t) => {
  const got: string[] = [];
  const rx = await server((s) => reading(s, got));
  const ok = await oqfwd(['--stall-timeout', '0', '-o', `tcp://127.0.0.1:${rx.port}`, numbered(dir, 1000)]).done;
  t.equal(ok.code, 0, ok.stderr);
  t.equal(arrivedIn(got.join(''), 1000).missing, 0);
  for (const flag of ['--stall-timeout', '--connect-timeout']) {
    const bad = await oqfwd([flag, '2147484', '-o', `tcp://127.0.0.1:${rx.port}`, numbered(dir, 10)]).done;
    t.equal(bad.code, 2, `${flag} 2147484`);
    t.match(bad.stderr, /at most 2147483 seconds/);
  }
});

t.test('--tls-* with a tcp:// destination is warned about', async (t) => {
  const got: string[] = [];
  const rx = await server((s) => reading(s, got));
  const r = await oqfwd(['--tls-insecure', '--tls-servername', 'x', '-o', `tcp://127.0.0.1:${rx.port}`, numbered(dir, 10)]).done;
  t.equal(r.code, 0);
  t.match(r.stderr, /--tls-servername, --tls-insecure ignored: tcp:\/\/127\.0\.0\.1:\d+ does not use TLS/);
});
