// StdoutSink against a real socket (a stream that lets go of chunks once written, as stdout does).
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import t from 'tap';
import { StdoutSink } from '../lib/output/stdout-sink.js';
import { collector } from './helpers.js';

async function dial(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  return s;
}

t.test('each chunk is given back once its write completed: writing over it then changes nothing', async (t) => {
  const rx = await collector(300);
  const target = await dial(rx.port);
  const given: Buffer[] = [];
  const sink = new StdoutSink(target, (b) => {
    given.push(b);
    b.fill(0x58);
  });
  // Chunks below the socket's high-water mark, more than the kernel holds while the reader
  // waits: each write is still queued when the next one would start.
  const want: Buffer[] = [];
  function* chunks(): Generator<Buffer> {
    for (let i = 0; i < 6000; i++) {
      const b = Buffer.from(`${i} ${'x'.repeat(4000)}\n`);
      want.push(Buffer.from(b));
      yield b;
    }
  }
  await pipeline(Readable.from(chunks(), { objectMode: false }), sink);
  target.end();
  const got = await rx.received;
  rx.close();
  t.equal(given.length, 6000, 'every chunk given back');
  t.ok(got.equals(Buffer.concat(want)), 'the receiver got every byte as written');
});

t.test('a target that breaks fails the pipeline with its error, and its later error event is no crash', async (t) => {
  const srv = createServer((s) => s.destroy());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const target = await dial((srv.address() as AddressInfo).port);
  let given = 0;
  const sink = new StdoutSink(target, () => given++);
  function* forever(): Generator<Buffer> {
    for (;;) yield Buffer.alloc(64 * 1024, 0x61);
  }
  await t.rejects(pipeline(Readable.from(forever(), { objectMode: false }), sink), /EPIPE|ECONNRESET|destroyed/);
  await new Promise((r) => setTimeout(r, 50)); // the target's own 'error' event, a tick later
  t.ok(target.listenerCount('error') >= 1, 'the target keeps a listener');
  srv.close();
});
