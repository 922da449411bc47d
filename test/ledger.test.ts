// Positions (--state) travel beside the events as marks: a mark must come after every event
// it covers, in the stream the sink gets, or a position can be saved before its events were
// delivered. Several followed names merge their streams, so another input's events can come
// between any two items of one.
import { join } from 'node:path';
import t from 'tap';
import { Converter, convertStage, Mark, MARK_GRAIN, type ConvertOptions } from '../lib/convert.js';
import type { InputItem, Track } from '../lib/input/files.js';
import { StateFile } from '../lib/input/state.js';
import { Ledger } from '../lib/ledger.js';
import { DEFAULT_MAX_LINE } from '../lib/cli.js';
import { Reporter } from '../lib/report.js';
import { newStats } from '../lib/stats.js';
import { parseZone } from '../lib/timezone.js';
import { emptyDir, line, scratch } from './helpers.js';

const dir = scratch('ledger');
const options: ConvertOptions = { flatten: false, unparsed: 'forward', maxLine: DEFAULT_MAX_LINE, zone: parseZone('UTC'), host: 'h' };
const track = (key: string): Track => ({ key, path: key, file: { dev: '1', ino: '2', birth: '0', head: Buffer.alloc(0) } });

async function* items(key: string, text: string, chunk: number): AsyncGenerator<InputItem> {
  yield { type: 'open', name: key, live: false, track: track(key) };
  for (let i = 0; i < text.length; i += chunk) yield { type: 'data', data: Buffer.from(text.slice(i, i + chunk)) };
  yield { type: 'close' };
}

t.test('each mark comes after the events of the lines before its position', async (t) => {
  const text = Array.from({ length: 2000 }, (_, i) => line(i)).join('');
  t.ok(text.length > 4 * MARK_GRAIN, 'several marks a chunk');
  const converter = new Converter(options, newStats(), new Reporter(() => {}));
  let events = 0;
  let marks = 0;
  let wrong = 0;
  for await (const item of convertStage(converter)(items('/a', text, 128 * 1024))) {
    if (item instanceof Mark) {
      marks++;
      // Lines wholly before the mark's offset have all been written before it.
      if (item.start.line > events) wrong++;
    } else {
      events += item.toString().split('\n').length - 1;
    }
  }
  t.equal(events, 2000);
  t.ok(marks > 5, `${marks} marks`);
  t.equal(wrong, 0, 'no mark ahead of its events');
});

t.test('the ledger saves a mark once the bytes before it were delivered, not before', async (t) => {
  const d = emptyDir(join(dir, 'save'));
  const state = await StateFile.load(join(d, 's.json'), () => {});
  let delivered = 0;
  const ledger = new Ledger(state, () => delivered, () => {});
  const a = new Mark(track('/a'), { offset: 10, line: 1 });
  // A's event, A's mark, then B's events (a merge can put them there).
  const stream = async function* (): AsyncGenerator<Buffer | Mark> {
    yield Buffer.alloc(100);
    yield a;
    yield Buffer.alloc(5000);
  };
  for await (const _ of ledger.stage()(stream())) void _;
  delivered = 99;
  await ledger.finish();
  t.equal(state.get('/a'), undefined, "99 of A's 100 bytes delivered: not saved, whatever B's bytes did");
  delivered = 100;
  await ledger.finish();
  t.same(state.get('/a')?.start, { offset: 10, line: 1 }, 'all 100: saved');
  await state.release();
});
