// --follow against the file operations that really happen under osquery's log directory:
// osquery's own rotation (rename to .1, a new live file), logrotate's copytruncate, delete and
// recreate, a glog symlink re-pointed, lines written in two parts. Each run is the built
// binary on real files, bounded in time; the order of every followed file is checked.
import { appendFileSync, copyFileSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { emptyDir, follow, line, scratch, sleep, waitFor } from './helpers.js';

const dir = scratch('follow');

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

t.test('rename rotation, late writes to the renamed file, a line in two writes, copytruncate, delete and recreate', async (t) => {
  const d = emptyDir(join(dir, 'ops'));
  const live = join(d, 'osqueryd.results.log');
  writeFileSync(live, line(0) + line(1));
  const f = follow(['--stats', live]);
  t.ok(await waitFor(() => f.seqs().length === 2, 10000), 'the lines already there');
  appendFileSync(live, line(2));
  t.ok(await waitFor(() => f.seqs().length === 3, 10000), 'an appended line');

  // osquery's rotation: the live file renamed onto .1, then a new live file. A write that
  // reached the old file after the rename is still read, before the new file.
  renameSync(live, live + '.1');
  appendFileSync(live + '.1', line(3));
  appendFileSync(live, line(4));
  t.ok(await waitFor(() => f.seqs().length === 5, 10000), 'through the rotation');

  // A line written in two parts is held until its end comes: never two halves.
  const half = line(5);
  appendFileSync(live, half.slice(0, 40));
  await sleep(1500);
  t.equal(f.seqs().length, 5, 'half a line is not an event');
  appendFileSync(live, half.slice(40));
  t.ok(await waitFor(() => f.seqs().length === 6, 10000), 'the whole line once it is complete');

  // logrotate copytruncate: the file cut to nothing and written again is read from its start.
  copyFileSync(live, live + '.2');
  truncateSync(live, 0);
  appendFileSync(live, line(6));
  t.ok(await waitFor(() => f.seqs().length === 7, 10000), 'after copytruncate');
  t.ok(await waitFor(() => /file truncated; reading it again from its start/.test(f.stderr()), 5000), 'and says so');

  // Deleted, then created again later.
  rmSync(live);
  await sleep(1200);
  appendFileSync(live, line(7));
  t.ok(await waitFor(() => f.seqs().length === 8, 10000), 'picked up when it reappears');

  const r = await f.stop();
  t.equal(r.code, 143, 'SIGTERM: 143');
  t.same(f.seqs(), range(0, 8), 'each line once, in order');
  t.equal(f.stdout().includes('"kind":"unparsed"'), false, 'no half line anywhere');
  t.equal((r.stderr.match(/file truncated/g) ?? []).length, 1, 'the truncation said once');
  t.match(r.stderr, /stats: events +8\b/);
});

t.test('a line that reaches the renamed file a moment after the rotation is still read', async (t) => {
  // A writer that opened the live file before the rename writes into .1 (osquery opens,
  // writes and closes per line). The follower saw the rename at once (inotify); the write
  // comes 50 ms later, within the 250 ms a replaced file is still read for.
  const d = emptyDir(join(dir, 'late'));
  const live = join(d, 'osqueryd.results.log');
  writeFileSync(live, line(0));
  const f = follow(['--poll-interval', '0.5', live]);
  t.ok(await waitFor(() => f.seqs().length === 1, 10000), 'the first line');
  renameSync(live, live + '.1');
  await sleep(50);
  appendFileSync(live + '.1', line(1));
  await sleep(400);
  appendFileSync(live, line(2));
  t.ok(await waitFor(() => f.seqs().length === 3, 10000), 'the late line and the new file');
  await f.stop();
  t.same(f.seqs(), [0, 1, 2], 'each once, in order');
});

t.test('a symlink re-pointed (glog at a worker restart) is followed to its new file', async (t) => {
  const d = emptyDir(join(dir, 'glog'));
  const first = join(d, 'osqueryd.INFO.20261201-100000.101');
  const second = join(d, 'osqueryd.INFO.20261201-110000.202');
  const link = join(d, 'osqueryd.INFO');
  writeFileSync(first, 'Log file created at: 2026/12/01 10:00:00\nI1201 10:00:00.000001  101 init.cpp:1] first worker\n');
  symlinkSync('osqueryd.INFO.20261201-100000.101', link);
  const f = follow(['--tz', 'UTC', link]);
  t.ok(await waitFor(() => /first worker/.test(f.stdout()), 10000));
  writeFileSync(second, 'Log file created at: 2026/12/01 11:00:00\nI1201 11:00:00.000002  202 init.cpp:1] second worker\n');
  rmSync(link);
  symlinkSync('osqueryd.INFO.20261201-110000.202', link);
  t.ok(await waitFor(() => /second worker/.test(f.stdout()), 10000), 'the new target is read');
  appendFileSync(first, 'I1201 10:59:59.000003  101 init.cpp:2] late line of the first worker\n');
  await sleep(300);
  const r = await f.stop();
  t.equal(r.code, 143);
  t.equal((f.stdout().match(/second worker/g) ?? []).length, 1, 'once');
  t.notMatch(f.stdout(), /late line/, 'a file the link left is not read any more');
});

t.test('--from end reads only what is added; a name missing at the start is waited for', async (t) => {
  const d = emptyDir(join(dir, 'from'));
  const old = join(d, 'old.log');
  const later = join(d, 'later.log');
  const probe = join(d, 'probe.log');
  // The last line is being written when oqfwd starts: it is read whole, once complete.
  const half = line(2, 'old');
  writeFileSync(old, line(0, 'old') + line(1, 'old') + half.slice(0, 30));
  const f = follow(['--from', 'end', old, later, probe]);
  // Running once a line of the probe (missing at the start) comes out: every name was
  // looked at by then, however slowly the machine started oqfwd.
  for (let i = 0; f.seqs('probe').length === 0 && i < 200; i++) {
    appendFileSync(probe, line(i, 'probe'));
    await sleep(100);
  }
  appendFileSync(old, half.slice(30) + line(3, 'old'));
  writeFileSync(later, line(0, 'later'));
  t.ok(await waitFor(() => f.seqs('old').length === 2 && f.seqs('later').length === 1, 10000));
  const r = await f.stop();
  t.equal(r.code, 143);
  t.same(f.seqs('old'), [2, 3], 'only what was added to the file found at the start, its unfinished line whole');
  t.notMatch(f.stdout(), /unparsed/);
  t.same(f.seqs('later'), [0], 'a file that appeared later is read whole');
  t.equal(r.stderr, '', 'a missing name is waited for without a word');
});

const glog = (hhmmss: string, pid: number, text: string): string => `I1201 ${hhmmss}.000001 ${pid} init.cpp:1] ${text}\n`;

t.test('--follow --osquery-dir: results through a rotation, the INFO link moved at a worker restart', async (t) => {
  const d = emptyDir(join(dir, 'osquery'));
  const results = join(d, 'osqueryd.results.log');
  writeFileSync(results, line(0));
  writeFileSync(join(d, 'osqueryd.snapshots.log'), '');
  writeFileSync(join(d, 'osqueryd.INFO.20261201-100000.101'), 'Log file created at: 2026/12/01 10:00:00\n' + glog('10:00:00', 101, 'worker one'));
  symlinkSync('osqueryd.INFO.20261201-100000.101', join(d, 'osqueryd.INFO'));
  writeFileSync(join(d, 'osqueryd.WARNING'), 'W1201 10:00:00.000001 101 x.cpp:1] never read: its lines are in INFO\n');
  const f = follow(['--tz', 'UTC', '--osquery-dir', d]);
  t.ok(await waitFor(() => f.seqs().length === 1 && /worker one/.test(f.stdout()), 10000), 'the live files');
  renameSync(results, results + '.1');
  appendFileSync(results, line(1));
  writeFileSync(join(d, 'osqueryd.INFO.20261201-110000.202'), 'Log file created at: 2026/12/01 11:00:00\n' + glog('11:00:00', 202, 'worker two'));
  rmSync(join(d, 'osqueryd.INFO'));
  symlinkSync('osqueryd.INFO.20261201-110000.202', join(d, 'osqueryd.INFO'));
  t.ok(await waitFor(() => f.seqs().length === 2 && /worker two/.test(f.stdout()), 10000), 'the new results file and the new worker');
  const r = await f.stop();
  t.equal(r.code, 143, r.stderr);
  t.same(f.seqs(), [0, 1]);
  t.notMatch(f.stdout(), /never read/, 'WARNING is not read');
});

t.test('--follow --osquery-dir with no INFO symlink (Windows): the newest INFO file, then the next one', async (t) => {
  const d = emptyDir(join(dir, 'osquery-nolink'));
  writeFileSync(join(d, 'osqueryd.INFO.20261201-090000.7'), glog('09:00:00', 7, 'old worker'));
  writeFileSync(join(d, 'osqueryd.INFO.20261201-100000.8'), glog('10:00:00', 8, 'current worker'));
  const f = follow(['--tz', 'UTC', '--osquery-dir', d]);
  t.ok(await waitFor(() => /current worker/.test(f.stdout()), 10000));
  writeFileSync(join(d, 'osqueryd.INFO.20261201-120000.9'), 'not a glog line\n' + glog('12:00:00', 9, 'next worker'));
  t.ok(await waitFor(() => /next worker/.test(f.stdout()), 10000), 'switched to the new file');
  const r = await f.stop();
  t.equal(r.code, 143, r.stderr);
  t.notMatch(f.stdout(), /old worker/, 'only the newest file at the start');
  t.match(f.stdout(), /"kind":"unparsed","file":"[^"]*osqueryd\.INFO\.20261201-120000\.9","line":1/, 'reports name the file itself');
});

t.test('an archive is never tailed as text: said once, not read', async (t) => {
  const d = emptyDir(join(dir, 'archive'));
  const zst = join(d, 'osqueryd.results.log.2.zst');
  writeFileSync(zst, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00]));
  const live = join(d, 'osqueryd.results.log');
  writeFileSync(live, line(0));
  const f = follow([live, zst]);
  t.ok(await waitFor(() => f.seqs().length === 1 && /zstd archive/.test(f.stderr()), 10000));
  await sleep(1500); // a poll or more: the refusal is not repeated
  const r = await f.stop();
  t.equal(r.code, 143);
  t.equal((r.stderr.match(/a zstd archive: archives are read whole without --follow, not followed/g) ?? []).length, 1, r.stderr);
  t.notMatch(f.stdout(), /unparsed/, 'none of its bytes as text');
});

t.test('SIGHUP looks at every name at once (a change no event told of: a link to another directory)', async (t) => {
  const d = emptyDir(join(dir, 'hup'));
  emptyDir(join(d, 'elsewhere'));
  const target = join(d, 'elsewhere', 'results.log');
  writeFileSync(target, line(0));
  const link = join(d, 'osqueryd.results.log');
  symlinkSync(target, link);
  // Polled once a minute: only SIGHUP can make the append below visible within the test.
  const f = follow(['--poll-interval', '60', link]);
  t.ok(await waitFor(() => f.seqs().length === 1, 10000));
  // A line appended while the follower still finishes its first look is read without
  // SIGHUP: append again until one stays unread for a second (the follower waits on its minute).
  let n = 1;
  for (; n < 6; n++) {
    appendFileSync(target, line(n));
    await sleep(1000);
    if (f.seqs().length === n) break;
  }
  t.equal(f.seqs().length, n, 'a line no change event told of stays unread');
  f.signal('SIGHUP');
  t.ok(await waitFor(() => f.seqs().length === n + 1, 5000), 'read after SIGHUP');
  const r = await f.stop();
  t.equal(r.code, 143, 'SIGHUP did not end it');
  t.same(f.seqs(), range(0, n + 1));
});
