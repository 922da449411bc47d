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

t.test('npm pack, then npm install -g of the tarball: oqfwd on PATH and its man page', async (t) => {
  const dir = scratch('pack');
  // --ignore-scripts: prepack builds, and the suite runs from dist/, which must not be rebuilt under it.
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
  t.equal(pack.status, 0, pack.stderr);
  const packed = JSON.parse(pack.stdout)[0] as { filename: string; files: Array<{ path: string }> };
  const paths = packed.files.map((f) => f.path);
  t.ok(paths.includes('dist/bin/oqfwd.js') && paths.includes('man/oqfwd.1') && paths.includes('dist/lib/run.js'));
  t.notOk(paths.some((p) => p.startsWith('dist/test/') || p.endsWith('.map') || p.endsWith('.ts')), 'no tests, maps or sources');
  const prefix = join(dir, 'prefix');
  // The dependencies come from npm's cache where `npm ci` left them (the registry otherwise).
  const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dir, packed.filename)], { cwd: dir, encoding: 'utf8', timeout: 120000 });
  t.equal(install.status, 0, install.stderr);
  t.ok(existsSync(join(prefix, 'share/man/man1/oqfwd.1')), 'man page installed');
  const env = { PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
  t.equal(spawnSync('oqfwd', ['--version'], { encoding: 'utf8', env }).stdout, `${VERSION}\n`, 'oqfwd on PATH');
  const run = spawnSync('oqfwd', ['--stats=json'], { input: '{"name":"q","columns":{"a":"1"},"action":"added"}\n', encoding: 'utf8', env });
  t.equal(run.stdout, '{"kind":"result","name":"q","columns":{"a":"1"},"action":"added"}\n');
  t.equal(JSON.parse(run.stderr).events, 1);
});
