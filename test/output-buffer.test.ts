import t from 'tap';
import { toBinary } from '../lib/json-raw.js';
import { OutputBuffer } from '../lib/output-buffer.js';

/** What `o` has, taken: without kept bytes it comes as one buffer (or none). */
function one(o: OutputBuffer): Buffer {
  const taken = o.take();
  if (taken.length > 1) throw new Error(`${taken.length} buffers, not one`);
  return taken[0] ?? Buffer.alloc(0);
}

t.test('writes binary strings as their bytes, grows, and hands over', async (t) => {
  const o = new OutputBuffer(4);
  o.write(toBinary('é€'));
  o.write('abcdefgh');
  t.equal(o.length, 2 + 3 + 8);
  const a = one(o);
  t.equal(a.toString('utf8'), 'é€abcdefgh');
  t.equal(o.length, 0);
  o.write('x');
  t.equal(a.toString('utf8'), 'é€abcdefgh', 'a taken buffer is never written again');
  t.equal(one(o).toString(), 'x');
  t.equal(one(o).length, 0);
});

t.test('numbers as JSON writes them; digits and clock zero-padded', async (t) => {
  const o = new OutputBuffer(2);
  const ints = [0, 7, 10, 99, 100, 2147483647, 2147483648, 1795562102, -1, -1234, Number.MAX_SAFE_INTEGER, 2 ** 60, -(2 ** 60)];
  for (const n of ints) {
    o.int(n);
    o.byte(44);
  }
  t.equal(one(o).toString(), ints.map((n) => JSON.stringify(n)).join(',') + ',');
  o.digits(42, 6);
  o.byte(32);
  o.digits(0, 2);
  o.byte(32);
  o.clock(0);
  o.byte(32);
  o.clock(86399);
  o.byte(32);
  o.clock(3600 * 9 + 60 * 5 + 7);
  t.equal(one(o).toString(), '000042 00 00:00:00 23:59:59 09:05:07');
});

t.test('prepared bytes, and short and long strings on either side of the copy loop', async (t) => {
  const o = new OutputBuffer(1);
  const parts = ['', 'a', 'x'.repeat(15), 'y'.repeat(16), 'z'.repeat(1000), toBinary('ü€')];
  for (const p of parts) o.write(p);
  o.bytes(Buffer.from('[bytes]'));
  t.equal(one(o).toString('utf8'), parts.map((p) => Buffer.from(p, 'latin1').toString('utf8')).join('') + '[bytes]');
});

t.test('a recycled buffer is written again; what is foreign or given back twice is not', async (t) => {
  const o = new OutputBuffer(64);
  o.write('first');
  const a = one(o);
  o.write('second');
  const b = one(o);
  t.not(a.buffer, b.buffer, 'without recycling, each take has its own memory');
  o.recycle(a);
  o.recycle(a); // twice: ignored
  o.recycle(Buffer.from('foreign buffer of someone else, not ours at all, longer than 64'));
  o.write('third'); // into the buffer made ready at the last take
  const c = one(o);
  o.write('fourth');
  const d = one(o);
  t.equal(d.buffer, a.buffer, 'the recycled memory is used again');
  t.equal(d.toString(), 'fourth');
  o.write('fifth');
  const e = one(o);
  t.not(e.buffer, a.buffer, 'a buffer given back twice is used once');
  t.not(e.buffer, c.buffer);
  t.equal(b.toString(), 'second', 'a buffer not given back is never touched');
});

t.test('kept bytes: short ones copied, long ones handed on as they are, in order; pieces cut across buffers', async (t) => {
  const o = new OutputBuffer(16);
  const long = Buffer.alloc(100 * 1024, 0x61);
  o.write('{"a":');
  o.keep(Buffer.from('"short"'));
  o.write(',"b":"');
  o.keep(long);
  o.write('"}\n');
  t.equal(o.length, 5 + 7 + 6 + long.length + 3);
  const taken = o.take();
  t.equal(taken.length, 3, 'what came before, the long bytes, what came after');
  t.equal(taken[1], long, 'the long bytes are not copied');
  t.equal(Buffer.concat(taken).toString(), '{"a":"short","b":"' + 'a'.repeat(long.length) + '"}\n');
  t.equal(o.length, 0);
  const total = Buffer.concat(taken).length;
  for (const ends of [[], [0], [3], [18, 18], [18, 19, total - 1], [total], [5, 50000, total]]) {
    const groups = o.pieces(taken, ends);
    t.equal(groups.length, ends.length + 1, `ends ${ends}: a group per mark, and one after`);
    const bounds = [0, ...ends, total];
    groups.forEach((g, i) => t.same(Buffer.concat(g), Buffer.concat(taken).subarray(bounds[i], bounds[i + 1]), `ends ${ends}: group ${i}`));
  }
});

t.test('a buffer cut into pieces is written over only once every piece came back', async (t) => {
  const o = new OutputBuffer(64);
  o.write('0123456789');
  const taken = o.take();
  const [first, second] = o.pieces(taken, [4]);
  o.write('x');
  one(o); // the buffer made ready at the last take
  o.recycle(first![0]!);
  o.write('y');
  t.not(one(o).buffer, taken[0]!.buffer, 'one piece of two back: not reused');
  o.recycle(second![0]!);
  o.write('z');
  one(o);
  o.write('w');
  t.equal(one(o).buffer, taken[0]!.buffer, 'both back: reused');
});
