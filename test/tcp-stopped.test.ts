// TCP output against a real receiver process (test/receiver.mjs) on loopback: a stopped
// receiver, a silent one, and signals while delivering. Every test numbers its
// events and checks what arrived.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { arrived, BIN, freePort, numbered as numberedIn, oqfwd, receiver, ROOT, scratch, sleep, tracked } from './helpers.js';

const dir = scratch('tcp-stopped');
const numbered = (n: number, pad = 0): string => numberedIn(dir, n, pad);


t.test('a receiver stopped for 12 s: memory stays bounded, then everything arrives', async (t) => {
  const n = 400_000;
  const input = numbered(n, 60);
  const port = await freePort();
  const file = join(dir, 'stopped.out');
  const rx = await receiver(port, file);
  const run = oqfwd(['--stats', '-o', `tcp://127.0.0.1:${port}`, input]);
  while (!existsSync(file) || statSync(file).size < 1e6) await sleep(10); // events flow
  rx.kill('SIGSTOP');
  let peak = 0;
  for (let i = 0; i < 12; i++) {
    await sleep(1000);
    const status = readFileSync(`/proc/${run.child.pid}/status`, 'utf8');
    peak = Math.max(peak, Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]));
  }
  rx.kill('SIGCONT');
  const { code } = await run.done;
  rx.kill('SIGKILL');
  t.equal(code, 0);
  t.ok(peak > 0 && peak < 150 * 1024, `peak RSS while stopped: ${Math.round(peak / 1024)} MiB`);
  t.equal(arrived(file, n).missing, 0);
});

t.test('a receiver that accepts and then never reads: noticed within --stall-timeout, reconnected, never taken as recovered', async (t) => {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    s.pause(); // takes the connection, reads nothing, never closes
    sockets.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const run = oqfwd(['--stall-timeout', '1', '-o', `tcp://127.0.0.1:${port}`, numbered(400_000, 60)]);
  const started = Date.now();
  while (!/no progress for 1 s; reconnecting/.test(run.stderr()) && Date.now() - started < 20000) await sleep(100);
  const noticed = Date.now() - started;
  while (sockets.length < 2 && Date.now() - started < 20000) await sleep(100);
  await sleep(1500);
  run.child.kill('SIGKILL');
  await run.done;
  for (const s of sockets) s.destroy();
  server.close();
  t.match(run.stderr(), /no progress for 1 s; reconnecting/);
  t.notMatch(run.stderr(), /reconnected after/, 'a connection that takes nothing does not end the outage');
  t.ok(sockets.length >= 2, `${sockets.length} connections: it reconnected`);
  t.ok(noticed < 15000, `noticed after ${noticed} ms`);
});

t.test('SIGTERM with a receiver that takes nothing: gives up after the flush deadline, says so, exits 143', async (t) => {
  const port = await freePort();
  const file = join(dir, 'deadline.out');
  const rx = await receiver(port, file);
  const run = oqfwd(['-o', `tcp://127.0.0.1:${port}`, numbered(400_000, 60)]);
  while (!existsSync(file) || statSync(file).size < 1e6) await sleep(10);
  rx.kill('SIGSTOP');
  await sleep(1000);
  const sent = Date.now();
  run.child.kill('SIGTERM');
  const { code, stderr } = await run.done;
  const took = Date.now() - sent;
  rx.kill('SIGKILL');
  t.equal(code, 143);
  t.match(stderr, /gave up delivering after 5 s/);
  t.match(stderr, /\d+ of \d+ events may not have arrived/);
  t.ok(took >= 4500 && took < 15000, `exited ${took} ms after SIGTERM`);
});

t.test('SIGTERM with a working receiver: what was read is delivered, exit 143', async (t) => {
  const port = await freePort();
  const file = join(dir, 'sigterm.out');
  const rx = await receiver(port, file);
  const child = tracked(spawn(process.execPath, [BIN, '--stats', '-o', `tcp://127.0.0.1:${port}`], { cwd: ROOT, stdio: ['pipe', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  child.stdin!.write(readFileSync(numbered(1000)));
  while (!existsSync(file) || readFileSync(file, 'utf8').split('\n').length < 1001) await sleep(20);
  child.kill('SIGTERM');
  const code = await closed;
  rx.kill('SIGKILL');
  t.equal(code, 143);
  t.equal(arrived(file, 1000).missing, 0);
  t.match(stderr, /stats: sent_events +1000$/m);
});
