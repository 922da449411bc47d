// The --state file on its own: what it keeps, how it is written (atomic, 0600), and what it
// refuses to trust; file identity (inode and fingerprint); the plan that finds a file again
// after rotations, in archives too.
import { spawnSync } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FINGERPRINT_BYTES, identify, remember, sameFile, type FileId } from '../lib/input/identity.js';
import { plan } from '../lib/input/resume.js';
import { StateFile, STATE_VERSION, type Saved } from '../lib/input/state.js';
import { emptyDir, line, scratch } from './helpers.js';

const dir = scratch('state');
const hasZstd = spawnSync('zstd', ['--version']).status === 0;
const lines = (from: number, to: number, file = 'r'): string => Array.from({ length: to - from }, (_, i) => line(from + i, file)).join('');

t.test('a state saved is read back the same; the file is 0600 and no temporary file is left', async (t) => {
  const d = emptyDir(join(dir, 'save'));
  const path = join(d, 's.json');
  const notices: string[] = [];
  const s = await StateFile.load(path, (m) => notices.push(m));
  t.equal(s.get('/x'), undefined, 'a missing file is an empty state');
  const head = Buffer.from(line(0));
  s.set('/x', { dev: '1', ino: '18446744073709551615', birth: '1796195241066998190', head }, { offset: 500, line: 3 }, '/x.1');
  await s.save();
  t.equal(statSync(path).mode & 0o777, 0o600, 'mode 0600');
  t.same(readdirSync(d).sort(), ['s.json', 's.json.lock'], 'the state file and its lock, no temporary file');
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  t.equal(doc.oqfwd, 'state');
  t.equal(doc.version, STATE_VERSION);
  const again = await StateFile.load(path, (m) => notices.push(m));
  const saved = again.get('/x')!;
  t.same(saved.start, { offset: 500, line: 3 });
  t.equal(saved.file.ino, '18446744073709551615', 'a 64-bit inode kept exactly');
  t.equal(saved.file.birth, '1796195241066998190', 'and its birth time, in nanoseconds');
  t.equal(saved.path, '/x.1');
  t.equal(saved.file.headLength, head.length);
  t.same(notices, []);
  // Saving again keeps the entries of names this run did not touch.
  again.set('/y', { dev: '1', ino: '2', birth: '0', head }, { offset: 1, line: 1 }, '/y');
  await again.save();
  const third = await StateFile.load(path, () => {});
  t.ok(third.get('/x') !== undefined && third.get('/y') !== undefined, 'both names');
});

t.test('a state file that cannot be trusted is set aside, said once, and not used', async (t) => {
  const d = emptyDir(join(dir, 'bad'));
  const cases: Array<[string, string, RegExp]> = [
    ['damaged', '{"oqfwd":"state","version":1,"inputs":[{"na', /not valid JSON/],
    ['foreign', '{"registry":[]}', /not an oqfwd state file/],
    ['future', JSON.stringify({ oqfwd: 'state', version: STATE_VERSION + 1, inputs: [] }), /newer oqfwd \(format 2; this one reads 1\)/],
    ['bad entry', JSON.stringify({ oqfwd: 'state', version: STATE_VERSION, inputs: [{ name: '/x', path: '/x', dev: '1', ino: '2', headLength: 3, sha256: 'zz', offset: 1, line: 0 }] }), /entry is damaged/],
    ['negative offset', JSON.stringify({ oqfwd: 'state', version: STATE_VERSION, inputs: [{ name: '/x', path: '/x', dev: '1', ino: '2', headLength: 0, sha256: '0'.repeat(64), offset: -1, line: 0 }] }), /entry is damaged/],
  ];
  for (const [what, text, reason] of cases) {
    const sub = emptyDir(join(d, what.replace(/ /g, '-')));
    const path = join(sub, 's.json');
    writeFileSync(path, text);
    const notices: string[] = [];
    const s = await StateFile.load(path, (m) => notices.push(m));
    t.equal(notices.length, 1, `${what}: said once`);
    t.match(notices[0], reason, `${what}: why`);
    t.match(notices[0], /set aside as s\.json\.untrusted-\d+, starting without it/, `${what}: where it went`);
    t.equal(s.get('/x'), undefined, `${what}: nothing taken from it`);
    const aside = readdirSync(sub).filter((n) => n.startsWith('s.json.untrusted-'));
    t.equal(aside.length, 1, `${what}: kept aside`);
    t.equal(readFileSync(join(sub, aside[0]!), 'utf8'), text, `${what}: as it was`);
  }
});

t.test('identity: the same file by inode, a copy by its first bytes, never a new file on a freed inode', async (t) => {
  const d = emptyDir(join(dir, 'id'));
  const a = join(d, 'a.log');
  writeFileSync(a, lines(0, 3));
  const known = remember((await identify(a))!);
  t.equal(known.headLength, Buffer.byteLength(lines(0, 3)), 'a short file: its fingerprint is all of it');
  appendFileSync(a, lines(3, 40));
  t.equal(sameFile(known, (await identify(a))!), 'inode', 'grown: still the same file');
  renameSync(a, a + '.1');
  t.equal(sameFile(known, (await identify(a + '.1'))!), 'inode', 'renamed: still the same file');
  writeFileSync(join(d, 'copy'), readFileSync(a + '.1'));
  t.equal(sameFile(known, (await identify(join(d, 'copy')))!), 'content', 'a copy: by its content');
  const grown = remember((await identify(a + '.1'))!);
  t.equal(grown.headLength, FINGERPRINT_BYTES, 'the fingerprint stops growing at FINGERPRINT_BYTES');
  // Same inode, other bytes: what a file created after the old one was deleted can get.
  rmSync(join(d, 'copy'));
  writeFileSync(a + '.1', lines(100, 140));
  t.equal(sameFile(grown, (await identify(a + '.1'))!), null, 'rewritten: not the file');
  t.equal(sameFile({ ...grown, headLength: 0, sha256: remember({ dev: '', ino: '', birth: '0', head: Buffer.alloc(0) }).sha256, ino: '0' }, (await identify(a + '.1'))!), null, 'an empty fingerprint matches by inode only');
  t.equal(await identify(join(d, 'nothing')), null, 'a missing file has no identity');
});

t.test('the plan: the live file itself, a rotated one, one inside an archive, and one that is gone', async (t) => {
  const d = emptyDir(join(dir, 'plan'));
  const live = join(d, 'osqueryd.results.log');
  writeFileSync(live, lines(0, 10));
  const id = (await identify(live))!;
  const saved: Saved = { file: remember(id), start: { offset: Buffer.byteLength(lines(0, 6)), line: 6 }, path: live, finished: false };

  let p = await plan(live, saved, live, []);
  t.same(p, { before: [], live: saved.start, last: null, lost: null, notice: null }, 'still at its name: on from the saved position');

  renameSync(live, live + '.1');
  writeFileSync(live, lines(10, 12));
  p = await plan(live, saved, live, [live + '.1']);
  t.same(p.before, [{ path: live + '.1', key: live, start: saved.start }], 'renamed to .1: finished from the saved position');
  t.equal(p.live, 'beginning', 'then the live file from its start');

  if (hasZstd) {
    // osquery's next rotation: .1 compressed into .2.zst and removed; the live file onto .1.
    spawnSync('zstd', ['-q', '-1', live + '.1', '-o', live + '.2.zst']);
    rmSync(live + '.1');
    renameSync(live, live + '.1');
    writeFileSync(live, lines(12, 13));
    p = await plan(live, saved, live, [live + '.2.zst', live + '.1']);
    t.same(
      p.before.map((s) => [s.path, s.start]),
      [
        [live + '.2.zst', saved.start],
        [live + '.1', { offset: 0, line: 0 }],
      ],
      'inside the archive, by the fingerprint of its text; then the newer file',
    );
    // The moment osquery has written .2.zst and not yet removed .1: the same text twice.
    writeFileSync(join(d, 'x'), lines(100, 200));
    const other = join(d, 'other.log');
    writeFileSync(other, lines(100, 200));
    spawnSync('zstd', ['-q', '-1', other, '-o', other + '.2.zst']);
    renameSync(other, other + '.1');
    p = await plan(live, saved, live, [live + '.2.zst', other + '.2.zst', other + '.1']);
    t.same(
      p.before.map((s) => s.path),
      [live + '.2.zst', other + '.2.zst'],
      'a file whose text is the archive before it is read once',
    );
  }

  rmSync(d, { recursive: true });
  emptyDir(d);
  writeFileSync(live + '.1', lines(50, 60));
  writeFileSync(live, lines(60, 61));
  p = await plan(live, saved, live, [live + '.1']);
  t.match(p.lost, /the file read last \(.*osqueryd\.results\.log, delivered up to byte \d+\) is no longer there/, 'gone: said');
  t.same(p.before.map((s) => s.path), [live + '.1'], 'and every file there is read, oldest first');
  p = await plan(live, { ...saved, finished: true }, live, [live + '.1']);
  t.same([p.before, p.live, p.lost], [[], 'beginning', null], 'gone after it was read to its end: nothing is missing, the live file from its start');
  t.match(p.notice, /was read to its end and is gone/);
});

t.test('the plan among files that begin alike: the inode first, then the oldest copy, said; alike is not the same', async (t) => {
  const d = emptyDir(join(dir, 'alike'));
  const name = join(d, 'osqueryd.INFO');
  const glog = (n: number): string => join(d, `osqueryd.INFO.20261201-00000${n}.10${n}`);
  // The file read last had half a line: its fingerprint is those few bytes, which every file
  // of lines like it begins with.
  const half = line(1, 's').slice(0, 60);
  writeFileSync(glog(1), half);
  const saved: Saved = { file: remember((await identify(glog(1)))!), start: { offset: 0, line: 0 }, path: name, finished: false };
  appendFileSync(glog(1), line(1, 's').slice(60));
  writeFileSync(glog(0), lines(0, 1, 's'));
  writeFileSync(glog(2), lines(2, 4, 's'));
  writeFileSync(glog(3), lines(4, 5, 's'));
  // glog's symlink re-pointed twice while oqfwd was down: the live file begins alike too.
  let p = await plan(name, saved, glog(3), [glog(0), glog(1), glog(2)]);
  t.same([p.before.map((x) => [x.path, x.start?.offset]), p.live, p.notice], [[[glog(1), 0], [glog(2), 0]], 'beginning', null], 'the file itself by its inode, not the live file that begins like it');

  // Gone by its inode (rotated away as copies): three copies fit; going on from the oldest
  // loses nothing, and says it may send lines again.
  // (The copy is made first: a file made after the removal could get the freed inode.)
  writeFileSync(glog(1) + '.copy', lines(1, 2, 's'));
  rmSync(glog(1));
  p = await plan(name, saved, glog(3), [glog(0), glog(1) + '.copy', glog(2)]);
  t.same(p.before.map((x) => x.path), [glog(0), glog(1) + '.copy', glog(2)], 'every file that fits, from the oldest');
  t.match(p.notice, /rotated files begin like the file read last .* cannot be told apart: going on from the oldest, .*\.100; lines already delivered may be sent again/);

  // Two different files newer than the one read last, with the same first kilobytes: both read.
  const r = join(d, 'osqueryd.results.log');
  writeFileSync(r + '.3', lines(0, 3));
  const s3: Saved = { file: remember((await identify(r + '.3'))!), start: { offset: 0, line: 0 }, path: r, finished: false };
  writeFileSync(r + '.2', lines(100, 120) + lines(0, 1));
  writeFileSync(r + '.1', lines(100, 120) + lines(1, 2));
  t.ok(readFileSync(r + '.2').subarray(0, FINGERPRINT_BYTES).equals(readFileSync(r + '.1').subarray(0, FINGERPRINT_BYTES)), 'the two begin alike');
  p = await plan(r, s3, null, [r + '.3', r + '.2', r + '.1']);
  t.same(p.before.map((x) => x.path), [r + '.3', r + '.2', r + '.1'], 'alike is not the same text: neither is skipped');
});

t.test('a freed inode given to a new file that begins alike is not the old file where birth times are kept', async (t) => {
  const d = emptyDir(join(dir, 'reuse'));
  const a = join(d, 'a');
  writeFileSync(a, line(1).slice(0, 60));
  const old = (await identify(a))!;
  rmSync(a);
  // The next file made in the directory usually gets the freed inode.
  writeFileSync(a, line(2));
  const now = (await identify(a))!;
  if (now.ino !== old.ino || old.birth === '0') {
    t.comment(`no inode reuse or no birth times here (${old.ino} ${now.ino} ${old.birth})`);
    t.equal(sameFile(remember(old), now), old.ino === now.ino ? 'inode' : 'content', 'told apart by what can tell them');
    return;
  }
  t.not(now.birth, old.birth, 'a new birth time');
  t.equal(sameFile(remember(old), now), 'content', 'only a file that begins alike, not the same file');
  const { birth: _unknown, ...before } = remember(old);
  t.equal(sameFile(before, now), 'inode', 'a state saved without birth times matches by inode, as it did');
});

t.test('one process per state file: a running oqfwd holds it, a dead one does not', async (t) => {
  const d = emptyDir(join(dir, 'lock'));
  const path = join(d, 's.json');
  const first = await StateFile.load(path, () => {});
  t.equal(readFileSync(path + '.lock', 'utf8'), `${process.pid}\n`, 'the lock names its process');
  // This test process runs oqfwd's code but is not named oqfwd: a lock naming a live oqfwd
  // is faked with a child whose command line says oqfwd.
  const { spawn } = await import('node:child_process');
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)', 'oqfwd'], { stdio: 'ignore' });
  await first.release();
  t.notOk(readdirSync(d).includes('s.json.lock'), 'released');
  writeFileSync(path + '.lock', `${holder.pid}\n`);
  await t.rejects(StateFile.load(path, () => {}), /in use by oqfwd process \d+ \(one process per state file\)/, 'held by a running oqfwd');
  holder.kill('SIGKILL');
  await new Promise((resolve) => holder.once('exit', resolve));
  const taken = await StateFile.load(path, () => {});
  t.equal(readFileSync(path + '.lock', 'utf8'), `${process.pid}\n`, "a dead process's lock is taken over");
  await taken.release();
});

t.test('between: a file that was at the name only between two looks is found after the one read last', async (t) => {
  const d = emptyDir(join(dir, 'between'));
  const live = join(d, 'osqueryd.results.log');
  writeFileSync(live, lines(0, 5));
  const done = (await identify(live))!;
  // Two rotations before the follower looked again: the file read last is .2, the one in
  // between .1, and a third is live.
  renameSync(live, live + '.2');
  writeFileSync(live + '.1', lines(5, 8));
  writeFileSync(live, lines(8, 9));
  const { between } = await import('../lib/input/resume.js');
  const paths = async (older: string[], except: FileId | null = null): Promise<string[]> => (await between(done, older, except, live)).files.map((x) => x.path);
  t.same(await paths([live + '.2', live + '.1']), [live + '.1'], 'the one in between');
  t.same(await paths([live + '.1']), [], 'the one read last gone: nothing known');
  // The file found at the name, rotated away as it was opened, is not read twice.
  t.same(await paths([live + '.2', live + '.1'], await identify(live + '.1')), [], 'less the file at the name now');
  // Rotated again, into an archive: the file read last is known there by its text.
  if (hasZstd) {
    spawnSync('zstd', ['-q', '-1', live + '.2', '-o', live + '.3.zst']);
    rmSync(live + '.2');
    t.same(await paths([live + '.3.zst', live + '.1']), [live + '.1'], 'found inside an archive');
  }
});

t.test('a state file that cannot be saved (the disk full: a file size limit) is exit 7; the saved state stays whole and the next run sends again, losing nothing', async (t) => {
  const { spawn } = await import('node:child_process');
  const { BIN } = await import('./helpers.js');
  const d = emptyDir(join(dir, 'full'));
  const state = join(d, 'state.json');
  const files = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => join(d, `${n}.log`));
  // Six inputs make the state about 2 KiB, over a limit of 1 KiB; the lock file fits.
  const run = (limit: boolean): Promise<{ code: number | null; out: string; err: string }> =>
    new Promise((resolve) => {
      // A clean environment: tap's NODE_OPTIONS hooks write files of their own, under the limit too.
      // sh counts the limit in blocks of 512 bytes.
      const child = spawn('sh', ['-c', `${limit ? 'ulimit -f 2; ' : ''}exec "$0" "$@"`, process.execPath, BIN, '--state', state, ...files], { env: { PATH: process.env.PATH } });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
      child.on('close', (code, signal) => resolve({ code, out, err: err + (signal === null ? '' : `(killed by ${signal})`) }));
    });
  const seqs = (out: string): string[] => out.split('\n').filter((l) => l !== '').map((l) => /"file":"(\w)","seq":"(\d+)"/.exec(l)!.slice(1).join(''));
  files.forEach((f, i) => writeFileSync(f, lines(0, 100, 'abcdef'[i])));
  const first = await run(false);
  t.equal(first.code, 0, first.err);
  t.equal(seqs(first.out).length, 600);
  const saved = readFileSync(state, 'utf8');
  t.ok(saved.length > 1024, `the state is ${saved.length} bytes, over the limit`);

  files.forEach((f, i) => appendFileSync(f, lines(100, 200, 'abcdef'[i])));
  const full = await run(true);
  t.equal(full.code, 7, `exit 7: the state could not be written ${full.err}`);
  t.match(full.err, /--state .*state\.json: cannot save: .*(EFBIG|too large).*; the next run may send again what this one delivered/i);
  t.equal(seqs(full.out).length, 600, 'the events were written all the same');
  t.equal(readFileSync(state, 'utf8'), saved, 'the state on disk is the last good one, whole');
  t.same(readdirSync(d).filter((n) => n.startsWith('.') || n.endsWith('.lock')), [], 'no temporary file and no lock left');

  const again = await run(false);
  t.equal(again.code, 0, again.err);
  t.same(seqs(again.out), seqs(full.out), 'the next run sends again exactly what the failed one could not record');
});
