// merge(): several sources into one, each in its own order, none read ahead of its consumer.
import t from 'tap';
import { merge } from '../lib/merge.js';
import { sleep } from './helpers.js';

async function* paced(name: string, n: number, ms: number, asked: string[]): AsyncGenerator<string> {
  for (let i = 0; i < n; i++) {
    asked.push(`${name}${i}`);
    await sleep(ms);
    yield `${name}${i}`;
  }
}

t.test('every value of every source, each source in order, the quick ones first', async (t) => {
  const asked: string[] = [];
  const got: string[] = [];
  for await (const v of merge([paced('a', 5, 1, asked), paced('b', 3, 12, asked), paced('c', 0, 1, asked)])) got.push(v);
  t.same(got.filter((v) => v.startsWith('a')), ['a0', 'a1', 'a2', 'a3', 'a4']);
  t.same(got.filter((v) => v.startsWith('b')), ['b0', 'b1', 'b2']);
  t.equal(got.indexOf('a4') < got.indexOf('b1'), true, 'a quick source is not held back by a slow one');
});

t.test('a source is asked for its next value only once the last was taken', async (t) => {
  const asked: string[] = [];
  const m = merge([paced('a', 10, 0, asked)]);
  await m.next();
  await sleep(30);
  t.same(asked, ['a0'], 'nothing read ahead while the consumer waits');
  await m.next();
  t.same(asked, ['a0', 'a1']);
  await m.return(undefined);
});

t.test('an error of one source ends the merge, and the others are ended', async (t) => {
  let ended = false;
  async function* forever(): AsyncGenerator<string> {
    try {
      for (;;) {
        await sleep(5);
        yield 'x';
      }
    } finally {
      ended = true;
    }
  }
  async function* failing(): AsyncGenerator<string> {
    await sleep(20);
    throw new Error('boom');
  }
  await t.rejects(async () => {
    for await (const _ of merge([forever(), failing()])) void _;
  }, /boom/);
  t.ok(ended, 'the other source was returned');
});
