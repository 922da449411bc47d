// RELP output against scripted RELP servers in this process, for what rsyslog will not do on
// demand: acknowledgements that stop, refusals, serverclose, a window that must hold, and
// transaction numbers running out. test/relp-rsyslog.test.ts runs the real one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import t from 'tap';
import { FrameReader } from '../lib/output/relp-frame.js';
import { RelpSink } from '../lib/output/relp-sink.js';
import { arrivedIn, numbered, oqfwd, relpServer, rsp, scratch, server, type Session } from './helpers.js';

const dir = scratch('relp');

const stats = (stderr: string, name: string): number => Number(new RegExp(`stats: ${name} +(\\d+)`).exec(stderr)?.[1]);
const bodies = (ss: Session[]): string => ss.flatMap((s) => s.messages.map((m) => m.replace(/^<14>1 - \S+ oqfwd - - - /, '') + '\n')).join('');

t.test('every event one syslog frame in an RFC 5424 envelope, acknowledged, exit 0', async (t) => {
  const rx = await relpServer(() => 'ack');
  const r = await oqfwd(['--stats', '--host', 'web 01', '-o', `relp://127.0.0.1:${rx.port}`, numbered(dir, 5000)]).done;
  t.equal(r.code, 0, r.stderr);
  t.equal(stats(r.stderr, 'confirmed_events'), 5000);
  t.match(rx.sessions[0]!.messages[0]!, /^<14>1 - web_01 oqfwd - - - \{"kind":"result",/);
  t.same(rx.sessions[0]!.txnrs.slice(0, 3), [2, 3, 4], 'syslog frames follow open (1)');
  const a = arrivedIn(bodies(rx.sessions), 5000);
  t.equal(a.missing + a.dups + a.bad, 0, 'each event once, intact');
});

t.test('the window holds: never more frames unacknowledged than --relp-window', async (t) => {
  // Acknowledge in bursts: hold frames until 20 are waiting, then answer them all.
  const held: Array<() => void> = [];
  const got: string[] = [];
  const slow = await server((socket) => {
    const reader = new FrameReader();
    let outstanding = 0;
    let most = 0;
    socket.on('data', (d: Buffer) => {
      for (const f of reader.push(d)) {
        if (f.command === 'open') socket.write(rsp(f.txnr, '200 OK\nrelp_version=0\ncommands=syslog'));
        else if (f.command === 'close') {
          socket.end(`${f.txnr} rsp 0\n`);
          t.ok(most <= 20, `at most ${most} frames were unacknowledged`);
          t.equal(most, 20, 'and the window was used');
        } else {
          got.push(f.data.toString('utf8').replace(/^<14>1 - \S+ oqfwd - - - /, '') + '\n');
          outstanding++;
          most = Math.max(most, outstanding);
          held.push(() => socket.write(`${f.txnr} rsp 6 200 OK\n`));
          if (outstanding === 20) {
            setTimeout(() => {
              for (const h of held.splice(0)) h();
              outstanding = 0;
            }, 5);
          }
        }
      }
    });
  });
  const r = await oqfwd(['--relp-window', '20', '-o', `relp://127.0.0.1:${slow.port}`, numbered(dir, 1000)]).done;
  t.equal(r.code, 0, r.stderr);
  // Frame buffers are reused once acknowledged: a reuse too early would garble these.
  const a = arrivedIn(got.join(''), 1000);
  t.equal(a.missing + a.dups + a.bad, 0, 'each event once, intact');
});

t.test('acknowledgements stop coming: exit non-zero with exactly how many are missing', async (t) => {
  const rx = await relpServer((session, frame) => (session === 0 && frame < 300 ? 'ack' : 'hold'));
  const r = await oqfwd(['--stats', '--relp-window', '100', '--stall-timeout', '1', '--connect-timeout', '3', '-o', `relp://127.0.0.1:${rx.port}`, numbered(dir, 1000)]).done;
  t.not(r.code, 0);
  t.equal(stats(r.stderr, 'confirmed_events'), 300, 'the 300 acknowledged');
  t.match(r.stderr, /700 of 1000 events were not acknowledged/);
  t.equal(stats(r.stderr, 'unconfirmed_events'), 700);
  t.match(r.stderr, /no progress for 1 s; reconnecting/);
});

t.test('serverclose and a refusal: the unacknowledged frames go again on a new session, nothing missing', async (t) => {
  const rx = await relpServer((session, frame) => {
    if (session === 0) return frame < 400 ? 'ack' : 'serverclose';
    if (session === 1) return frame < 200 ? 'ack' : '500';
    return 'ack';
  });
  const r = await oqfwd(['--stats', '--relp-window', '50', '-o', `relp://127.0.0.1:${rx.port}`, numbered(dir, 2000)]).done;
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /the receiver closed the session; reconnecting/);
  t.match(r.stderr, /the receiver refused an event: 500 command disabled/);
  const a = arrivedIn(bodies(rx.sessions), 2000);
  t.equal(a.missing, 0, 'nothing missing');
  t.equal(a.bad, 0, 'nothing garbled (frame buffers are reused only once acknowledged)');
  t.ok(a.dups <= 2 * 50, `${a.dups} duplicates, no more than a window per break`);
  t.equal(stats(r.stderr, 'confirmed_events'), 2000);
  t.equal(stats(r.stderr, 'events_replayed') >= a.dups, true, 'replays counted');
});

t.test('transaction numbers running out: a new session starts at 1, nothing lost', async (t) => {
  const rx = await relpServer(() => 'ack');
  const sink = new RelpSink({
    target: { host: '127.0.0.1', port: rx.port, tls: null, name: 'test' },
    connectTimeoutMs: 5000,
    stallTimeoutMs: 5000,
    window: 16,
    windowBytes: 1 << 20,
    host: 'h',
    notify: () => {},
    maxTxnr: 50,
  });
  await sink.open();
  const lines = Array.from({ length: 300 }, (_, i) => `{"kind":"result","columns":{"seq":"${i}"}}\n`).join('');
  await pipeline(Readable.from([Buffer.from(lines.slice(0, 4000)), Buffer.from(lines.slice(4000))]), sink);
  t.ok(rx.sessions.length >= 6, `${rx.sessions.length} sessions`);
  t.ok(rx.sessions.every((s) => s.txnrs.every((n) => n >= 2 && n <= 50)), 'every number within 2..50');
  t.equal(bodies(rx.sessions).replace(/^<14>1 - h oqfwd - - - /gm, ''), lines, 'every event once, in order');
  t.equal(sink.counters.eventsConfirmed, 300);
});

t.test('a server that does not offer syslog is refused for good: exit 5', async (t) => {
  const rx = await server((socket) => {
    const reader = new FrameReader();
    socket.on('data', (d: Buffer) => {
      for (const f of reader.push(d)) if (f.command === 'open') socket.write(rsp(f.txnr, '200 OK\nrelp_version=0\ncommands=other'));
    });
  });
  const r = await oqfwd(['-o', `relp://127.0.0.1:${rx.port}`, numbered(dir, 10)]).done;
  t.equal(r.code, 5);
  t.match(r.stderr, /does not take syslog messages over RELP \(it offers: other\)/);
});

t.test('--state advances over acknowledged events only, and the next run sends exactly the rest', async (t) => {
  const state = join(dir, 'relp-state.json');
  const input = numbered(dir, 1000);
  const held = await relpServer((session, frame) => (session === 0 && frame < 300 ? 'ack' : 'hold'));
  let r = await oqfwd(['--state', state, '--relp-window', '100', '--stall-timeout', '1', '--connect-timeout', '3', '-o', `relp://127.0.0.1:${held.port}`, input]).done;
  t.not(r.code, 0, 'the run could not deliver everything');
  const saved = JSON.parse(readFileSync(state, 'utf8')).inputs[0];
  // Positions are saved at marks, every MARK_GRAIN (16 KiB: about 150 of these lines) of input.
  t.ok(saved.line <= 300 && saved.line > 300 - 160, `saved after ${saved.line} lines: within the 300 acknowledged, not after what was sent or read`);
  held.close();
  const rx = await relpServer(() => 'ack');
  r = await oqfwd(['--state', state, '-o', `relp://127.0.0.1:${rx.port}`, input]).done;
  t.equal(r.code, 0, r.stderr);
  const a = arrivedIn(bodies(rx.sessions), 1000);
  t.equal(a.lines, 1000 - saved.line, 'the second run sends from the saved line on');
  t.equal(a.missing, saved.line, 'and nothing before it');
  t.equal(a.dups + a.bad, 0);
});
