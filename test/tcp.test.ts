// TCP output against a real receiver process (test/receiver.mjs) on loopback: restarts,
// graceful closes, late receivers, no receiver, destinations. Every test numbers its
// events and checks what arrived.
import { existsSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { arrived, exited, freePort, numbered as numberedIn, oqfwd, receiver, scratch, sleep } from './helpers.js';

const dir = scratch('tcp');
const numbered = (n: number, pad = 0): string => numberedIn(dir, n, pad);

t.test('1,000,000 events, the receiver SIGKILLed and restarted 5 times: every event arrives', async (t) => {
  const n = 1_000_000;
  const input = numbered(n);
  const port = await freePort();
  const file = join(dir, 'kill.out');
  let rx = await receiver(port, file);
  const run = oqfwd(['--stats', '-o', `tcp://127.0.0.1:${port}`, input]);
  while (!existsSync(file) || statSync(file).size < 1e6) await sleep(10); // events flow
  let seed = 12345;
  const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 1000) / 1000;
  let kills = 0;
  for (; kills < 5; kills++) {
    await sleep(150 + rnd() * 500);
    if (run.child.exitCode !== null) break;
    rx.kill('SIGKILL');
    await exited(rx);
    await sleep(50 + rnd() * 300);
    rx = await receiver(port, file);
  }
  const { code, stderr } = await run.done;
  await sleep(200);
  rx.kill('SIGKILL');
  t.equal(code, 0, 'oqfwd exits 0');
  t.ok(kills >= 3, `${kills} receiver kills while oqfwd ran`);
  const got = arrived(file, n);
  t.equal(got.missing, 0, `no event missing (${got.lines} lines arrived for ${n} events)`);
  t.equal(got.bad, 0, 'every line intact');
  const reconnects = Number(/stats: reconnects +(\d+)/.exec(stderr)?.[1]);
  const replayed = Number(/stats: events_replayed +(\d+)/.exec(stderr)?.[1]);
  // A kill while oqfwd is still backing off from the last one makes one outage of two.
  t.ok(reconnects >= 1 && reconnects <= kills, `reconnects reported: ${reconnects}`);
  t.ok(replayed > 0, `events replayed reported: ${replayed}`);
  t.equal(got.lines - n <= replayed, true, 'duplicates are no more than the events replayed');
});

t.test('a receiver that closes its connections mid-stream and returns: nothing missing', async (t) => {
  const n = 1_000_000;
  const input = numbered(n);
  const port = await freePort();
  const file = join(dir, 'graceful.out');
  const rx = await receiver(port, file);
  const run = oqfwd(['--stats', '-o', `127.0.0.1:${port}`, input]);
  // Close it once events flow, well before the end.
  while (!existsSync(file) || statSync(file).size < 1e6) await sleep(10);
  rx.kill('SIGUSR2');
  const { code, stderr } = await run.done;
  rx.kill('SIGKILL');
  t.equal(code, 0);
  t.match(stderr, /reconnecting/);
  t.match(stderr, /stats: reconnects +1$/m);
  t.equal(arrived(file, n).missing, 0);
});

t.test('a receiver that appears after a few seconds gets everything', async (t) => {
  const n = 10_000;
  const port = await freePort();
  const file = join(dir, 'late.out');
  const run = oqfwd(['--connect-timeout', '20', '-o', `tcp://127.0.0.1:${port}`, numbered(n)]);
  await sleep(2500);
  const rx = await receiver(port, file);
  const { code, stderr } = await run.done;
  rx.kill('SIGKILL');
  t.equal(code, 0);
  t.match(stderr, /ECONNREFUSED.*retrying/);
  t.equal(arrived(file, n).missing, 0);
});

t.test('no receiver at all: exit 5 within --connect-timeout, nothing read', async (t) => {
  const port = await freePort();
  const { code, stderr, ms } = await oqfwd(['--connect-timeout', '1', '-o', `tcp://127.0.0.1:${port}`, numbered(10)]).done;
  t.equal(code, 5);
  t.match(stderr, new RegExp(`tcp://127\\.0\\.0\\.1:${port}: cannot connect for 1\\.\\d s \\(\\d+ attempts?\\): connect ECONNREFUSED`));
  t.ok(ms < 5000, `gave up after ${ms} ms`);
});

t.test('destinations: HOST:PORT, [::1]:PORT, bad ones are usage errors', async (t) => {
  const bad = await oqfwd(['-o', 'nowhere', numbered(10)]).done;
  t.equal(bad.code, 2);
  t.match(bad.stderr, /not a destination: nowhere/);
  const v6 = createServer((s) => {
    let got = '';
    s.setEncoding('utf8').on('data', (d: string) => (got += d));
    s.on('end', () => {
      v6.emit('got', got);
      s.end();
    });
  });
  const ok = await new Promise<boolean>((resolve) => {
    v6.once('error', () => resolve(false));
    v6.listen(0, '::1', () => resolve(true));
  });
  if (!ok) {
    t.comment('no IPv6 loopback here: [::1] not tested');
    return;
  }
  const port = (v6.address() as AddressInfo).port;
  const got = new Promise<string>((r) => v6.once('got', r));
  const r = await oqfwd(['-o', `[::1]:${port}`, numbered(10)]).done;
  t.equal(r.code, 0);
  t.equal((await got).split('\n').filter(Boolean).length, 10);
  v6.close();
});

