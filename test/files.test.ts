import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { fileInput, STDIN_NAME, type InputItem } from '../lib/input/files.js';
import { scratch } from './helpers.js';

async function items(files: string[], stdin = new PassThrough()): Promise<{ items: InputItem[]; errors: string[] }> {
  const errors: string[] = [];
  const out: InputItem[] = [];
  for await (const item of fileInput({ files, stdin, onError: (name, message) => errors.push(`${name}: ${message}`) })) out.push(item as InputItem);
  return { items: out, errors };
}

t.test('files and stdin in order, each framed by open and close', async (t) => {
  const dir = scratch('input');
  writeFileSync(join(dir, 'a'), 'A\n');
  writeFileSync(join(dir, 'b'), 'B\n');
  const stdin = new PassThrough();
  stdin.end('S\n');
  const { items: got, errors } = await items([join(dir, 'a'), '-', join(dir, 'missing'), dir, join(dir, 'b')], stdin);
  t.same(errors, [`${join(dir, 'missing')}: No such file or directory`, `${dir}: Is a directory`]);
  const summary = got.map((i) => (i.type === 'open' ? `open ${i.name} ${i.live}` : i.type === 'data' ? i.data.toString() : 'close'));
  t.same(summary, [`open ${join(dir, 'a')} false`, 'A\n', 'close', `open ${STDIN_NAME} true`, 'S\n', 'close', `open ${dir} false`, 'close', `open ${join(dir, 'b')} false`, 'B\n', 'close']);
});

t.test('stop() ends the stream even while stdin waits for data', async (t) => {
  const stdin = new PassThrough();
  const input = fileInput({ files: ['-'], stdin, onError: () => t.fail('no error expected') });
  const seen: string[] = [];
  input.on('data', (i: InputItem) => {
    seen.push(i.type);
    if (i.type === 'data') input.stop();
  });
  stdin.write('first\n'); // and never ends
  await new Promise((resolve) => input.on('end', resolve));
  t.same(seen, ['open', 'data', 'close']);
});
