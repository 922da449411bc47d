import t from 'tap';
import { toBinary } from '../lib/json-raw.js';
import { OutputBuffer } from '../lib/output-buffer.js';

t.test('writes binary strings as their bytes, grows, and hands over', async (t) => {
  const o = new OutputBuffer(4);
  o.write(toBinary('é€'));
  o.write('abcdefgh');
  t.equal(o.length, 2 + 3 + 8);
  const a = o.take();
  t.equal(a.toString('utf8'), 'é€abcdefgh');
  t.equal(o.length, 0);
  o.write('x');
  t.equal(a.toString('utf8'), 'é€abcdefgh', 'a taken buffer is never written again');
  t.equal(o.take().toString(), 'x');
  t.equal(o.take().length, 0);
});

t.test('numbers as JSON writes them; digits and clock zero-padded', async (t) => {
  const o = new OutputBuffer(2);
  const ints = [0, 7, 10, 99, 100, 2147483647, 2147483648, 1795562102, -1, -1234, Number.MAX_SAFE_INTEGER, 2 ** 60, -(2 ** 60)];
  for (const n of ints) {
    o.int(n);
    o.byte(44);
  }
  t.equal(o.take().toString(), ints.map((n) => JSON.stringify(n)).join(',') + ',');
  o.digits(42, 6);
  o.byte(32);
  o.digits(0, 2);
  o.byte(32);
  o.clock(0);
  o.byte(32);
  o.clock(86399);
  o.byte(32);
  o.clock(3600 * 9 + 60 * 5 + 7);
  t.equal(o.take().toString(), '000042 00 00:00:00 23:59:59 09:05:07');
});

t.test('prepared bytes, and short and long strings on either side of the copy loop', async (t) => {
  const o = new OutputBuffer(1);
  const parts = ['', 'a', 'x'.repeat(15), 'y'.repeat(16), 'z'.repeat(1000), toBinary('ü€')];
  for (const p of parts) o.write(p);
  o.bytes(Buffer.from('[bytes]'));
  t.equal(o.take().toString('utf8'), parts.map((p) => Buffer.from(p, 'latin1').toString('utf8')).join('') + '[bytes]');
});

t.test('a recycled buffer is written again; what is foreign or given back twice is not', async (t) => {
  const o = new OutputBuffer(64);
  o.write('first');
  const a = o.take();
  o.write('second');
  const b = o.take();
  t.not(a.buffer, b.buffer, 'without recycling, each take has its own memory');
  o.recycle(a);
  o.recycle(a); // twice: ignored
  o.recycle(Buffer.from('foreign buffer of someone else, not ours at all, longer than 64'));
  o.write('third'); // into the buffer made ready at the last take
  const c = o.take();
  o.write('fourth');
  const d = o.take();
  t.equal(d.buffer, a.buffer, 'the recycled memory is used again');
  t.equal(d.toString(), 'fourth');
  o.write('fifth');
  const e = o.take();
  t.not(e.buffer, a.buffer, 'a buffer given back twice is used once');
  t.not(e.buffer, c.buffer);
  t.equal(b.toString(), 'second', 'a buffer not given back is never touched');
});
