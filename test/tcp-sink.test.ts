// TcpSink in-process against a real TCP server on loopback: what it gives back for reuse.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import t, { type Test } from 'tap';
import { TcpSink } from '../lib/output/tcp-sink.js';
import { collector } from './helpers.js';

/**
 * Sends `count` chunks of `lines(c)` numbered lines each through a TcpSink whose taker writes
 * over every chunk it is given back, as reuse would; `small(c)` chunks are cut from a block
 * four times their size, so the window keeps a copy of them instead.
 */
async function overwritten(t: Test, replayBytes: number, count: number, lines: (c: number) => number, small: (c: number) => boolean): Promise<void> {
  const rx = await collector(500);
  const released = new Set<Buffer>();
  let twice = 0;
  const sink = new TcpSink({
    target: { host: '127.0.0.1', port: rx.port, tls: null, name: 'test' },
    connectTimeoutMs: 5000,
    stallTimeoutMs: 10000,
    replayBytes,
    notify: () => {},
    written: (b) => {
      if (released.has(b)) twice++;
      released.add(b);
      b.fill(0x58); // a chunk given back too early arrives as XXXX
    },
  });
  await sink.open();
  const expected: Buffer[] = [];
  const sent: Buffer[] = [];
  let n = 0;
  function* chunks(): Generator<Buffer> {
    for (let c = 0; c < count; c++) {
      const text = Buffer.from(Array.from({ length: lines(c) }, () => `{"seq":${n++},"pad":"${'p'.repeat(40)}"}\n`).join(''));
      const block = Buffer.allocUnsafeSlow(small(c) ? text.length * 4 : text.length);
      text.copy(block);
      expected.push(text);
      sent.push(block.subarray(0, text.length));
      yield sent.at(-1)!;
    }
  }
  await pipeline(Readable.from(chunks(), { objectMode: false }), sink);
  const got = await rx.received;
  rx.close();
  const want = Buffer.concat(expected);
  t.equal(got.length, want.length, 'every byte arrived');
  t.ok(got.equals(want), 'and none was overwritten');
  t.equal(twice, 0, 'no chunk given back twice');
  const back = sent.filter((b) => released.has(b)).length;
  t.equal(back, count, 'every chunk given back once the end confirmed them');
}

// The receiver does not read for 0.5 s at first, and more is sent than the kernel buffers of
// both ends hold: writes queue in the socket, and chunks leave the window while queued.
t.test('chunks given back are written over at once: large and small chunks, a 64 KiB window', (t) =>
  overwritten(t, 64 * 1024, 160, (c) => (c % 3 === 0 ? 50 : 4000), (c) => c % 3 === 0),
);

t.test('chunks given back are written over at once: chunks below the socket high-water mark, no window', (t) =>
  overwritten(t, 1, 8000, () => 60, (c) => c % 2 === 0),
);

t.test('without a taker, delivery is the same', async (t) => {
  const rx = await collector(0);
  const sink = new TcpSink({ target: { host: '127.0.0.1', port: rx.port, tls: null, name: 'test' }, connectTimeoutMs: 5000, stallTimeoutMs: 10000, replayBytes: 1024, notify: () => {} });
  await sink.open();
  const lines = Array.from({ length: 1000 }, (_, i) => `{"seq":${i}}\n`).join('');
  await pipeline(Readable.from([Buffer.from(lines.slice(0, 5000)), Buffer.from(lines.slice(5000))]), sink);
  const got = await rx.received;
  rx.close();
  t.equal(got.toString(), lines);
});
