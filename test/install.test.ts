// `make install PREFIX=…` gives a working command and its man page. (-o build: the suite
// runs from dist/, which must not be rebuilt under it.)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ROOT, scratch } from './helpers.js';
import { VERSION } from '../lib/version.js';

t.test('make install PREFIX=DIR', async (t) => {
  const prefix = scratch('install');
  const make = spawnSync('make', ['-o', 'build', 'install', `PREFIX=${prefix}`], { cwd: ROOT, encoding: 'utf8' });
  t.equal(make.status, 0, make.stderr);
  t.ok(existsSync(join(prefix, 'share/man/man1/oqfwd.1')), 'man page installed');
  t.notOk(existsSync(join(prefix, 'lib/oqfwd/dist/test')), 'tests are not installed');
  const version = spawnSync(join(prefix, 'bin/oqfwd'), ['--version'], { encoding: 'utf8' });
  t.equal(version.stdout, `${VERSION}\n`);
  const run = spawnSync(join(prefix, 'bin/oqfwd'), [], { input: '{"name":"q","columns":{"a":"1"},"action":"added"}\n', encoding: 'utf8' });
  t.equal(run.stdout, '{"kind":"result","name":"q","columns":{"a":"1"},"action":"added"}\n');
  t.equal(run.status, 0);
});
