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
