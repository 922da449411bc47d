import t from 'tap';
import { paintFor, PLAIN, wantsColour } from '../lib/colour.js';
import { cli } from './helpers.js';

t.test('colour only on a terminal, NO_COLOR wins over the terminal, FORCE_COLOR over both', async (t) => {
  t.equal(wantsColour({}, true), true);
  t.equal(wantsColour({}, false), false);
  t.equal(wantsColour({ NO_COLOR: '1' }, true), false);
  t.equal(wantsColour({ NO_COLOR: '' }, true), true, 'an empty NO_COLOR does not count');
  t.equal(wantsColour({ FORCE_COLOR: '1' }, false), true);
  t.equal(wantsColour({ FORCE_COLOR: '0' }, true), true, 'FORCE_COLOR=0 leaves it to the terminal');
  t.equal(await paintFor({}, false), PLAIN);
  t.match((await paintFor({ FORCE_COLOR: '1' }, false)).red('x'), /\u001b\[31mx/);
});

t.test('stderr is coloured when forced; stdout never is', async (t) => {
  const r = await cli([], 'junk\n', { FORCE_COLOR: '1', NO_COLOR: '' });
  t.match(r.stderr, /\u001b\[/);
  t.notMatch(r.stdout, /\u001b/);
  const plain = await cli([], 'junk\n');
  t.notMatch(plain.stderr, /\u001b/);
});
