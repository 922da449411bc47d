// --osquery-dir one-shot: a log directory's history in order, oldest first, archives included.
import { spawnSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { defaultOsqueryDir, history } from '../lib/input/osquery-dir.js';
import { cli, scratch } from './helpers.js';

const hasZstd = spawnSync('zstd', ['--version']).status === 0;
const line = (seq: number): string => `{"name":"q","hostIdentifier":"h","unixTime":1,"epoch":0,"counter":0,"columns":{"seq":"${seq}"},"action":"added"}\n`;

t.test('the default directory by platform, as osquery documents it', async (t) => {
  t.equal(defaultOsqueryDir('linux'), '/var/log/osquery');
  t.equal(defaultOsqueryDir('darwin'), '/var/log/osquery');
  t.equal(defaultOsqueryDir('freebsd'), '/var/log/osquery');
  t.equal(defaultOsqueryDir('win32'), 'C:\\Program Files\\osquery\\log');
});

t.test('history: dated, then numbered from the highest, then the live file; INFO files by time; nothing else', async (t) => {
  const d = scratch('osquery-dir');
  const names = [
    'osqueryd.results.log', 'osqueryd.results.log.1', 'osqueryd.results.log.2.zst', 'osqueryd.results.log.10.zst',
    'osqueryd.results.log-20261129.gz', 'osqueryd.results.log-20261130', 'osqueryd.snapshots.log', 'osqueryd.snapshots.log.1',
    'osqueryd.INFO.20261201-110000.202', 'osqueryd.INFO.20261130-080000.99', 'osqueryd.WARNING.20261201-110000.202',
    'osqueryd.ERROR.20261201-110000.202', 'osqueryd.pidfile', 'osqueryd.results.log.bak', 'notes.txt',
  ];
  for (const n of names) writeFileSync(join(d, n), '');
  symlinkSync('osqueryd.INFO.20261201-110000.202', join(d, 'osqueryd.INFO'));
  t.same(
    (await history(d)).map((p) => p.slice(d.length + 1)),
    [
      'osqueryd.results.log-20261129.gz', 'osqueryd.results.log-20261130', 'osqueryd.results.log.10.zst', 'osqueryd.results.log.2.zst',
      'osqueryd.results.log.1', 'osqueryd.results.log', 'osqueryd.snapshots.log.1', 'osqueryd.snapshots.log',
      'osqueryd.INFO.20261130-080000.99', 'osqueryd.INFO.20261201-110000.202',
    ],
  );
});

t.test('oqfwd --osquery-dir DIR: osquery-rotated archives and the live file, oldest first', { skip: !hasZstd && 'the zstd CLI is not installed' }, async (t) => {
  const d = scratch('osquery-dir');
  const plain = join(d, 'tmp');
  writeFileSync(plain, line(0) + line(1));
  spawnSync('zstd', ['-q', plain, '-o', join(d, 'osqueryd.results.log.3.zst')]);
  writeFileSync(join(d, 'osqueryd.results.log.2.gz'), gzipSync(line(2)));
  writeFileSync(join(d, 'osqueryd.results.log.1'), line(3));
  writeFileSync(join(d, 'osqueryd.results.log'), line(4));
  writeFileSync(plain, '');
  const r = await cli(['--osquery-dir', d]);
  t.equal(r.code, 0, r.stderr);
  t.same([...r.stdout.matchAll(/"seq":"(\d+)"/g)].map((m) => Number(m[1])), [0, 1, 2, 3, 4]);
});

t.test('oqfwd --osquery-dir: a missing or empty directory is an input error, FILEs with it a usage error', async (t) => {
  const missing = await cli(['--osquery-dir', '/nonexistent/osquery']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, 'oqfwd: /nonexistent/osquery: No such file or directory');
  const empty = await cli(['--osquery-dir', scratch('osquery-dir')]);
  t.equal(empty.code, 1);
  t.match(empty.stderr, /no osquery logs in it/);
  const both = await cli(['--osquery-dir', '/tmp', 'x.log']);
  t.equal(both.code, 2);
  t.match(both.stderr, /no FILE arguments with it/);
});
