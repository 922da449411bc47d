// --follow against the file operations that really happen under osquery's log directory:
// osquery's own rotation (rename to .1, a new live file), logrotate's copytruncate, delete and
// recreate, a glog symlink re-pointed, lines written in two parts. Each run is the built
// binary on real files, bounded in time; the order of every followed file is checked.
import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { BIN, ROOT, scratch, sleep, tracked, waitFor } from './helpers.js';

const dir = scratch('follow');

const line = (seq: number, file = 'r'): string => `{"name":"q","hostIdentifier":"h","unixTime":1795597900,"epoch":0,"counter":0,"columns":{"file":"${file}","seq":"${seq}"},"action":"added"}\n`;

interface Follower {
  /** Sequence numbers of the events written so far, per "file" column. */
  seqs: (file?: string) => number[];
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM, then the exit. */
  stop: () => Promise<{ code: number | null; stderr: string }>;
}

function follow(args: string[]): Follower {
  const child = tracked(spawn(process.execPath, [BIN, '--follow', ...args], { cwd: ROOT, env: { PATH: process.env.PATH, NO_COLOR: '1', TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const killer = setTimeout(() => child.kill('SIGKILL'), 90000);
  return {
    seqs: (file = 'r') => [...out.matchAll(new RegExp(`"file":"${file}","seq":"(\\d+)"`, 'g'))].map((m) => Number(m[1])),
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      child.kill('SIGTERM');
      const code = await closed;
      clearTimeout(killer);
      return { code, stderr: err };
    },
  };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

t.test('rename rotation, late writes to the renamed file, a line in two writes, copytruncate, delete and recreate', async (t) => {
  const d = join(dir, 'ops');
  fresh(d);
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

t.test('a symlink re-pointed (glog at a worker restart) is followed to its new file', async (t) => {
  const d = join(dir, 'glog');
  fresh(d);
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
  const d = join(dir, 'from');
  fresh(d);
  const old = join(d, 'old.log');
  const later = join(d, 'later.log');
  writeFileSync(old, line(0, 'old') + line(1, 'old'));
  const f = follow(['--from', 'end', old, later]);
  await sleep(700);
  appendFileSync(old, line(2, 'old'));
  writeFileSync(later, line(0, 'later'));
  t.ok(await waitFor(() => f.seqs('old').length === 1 && f.seqs('later').length === 1, 10000));
  const r = await f.stop();
  t.equal(r.code, 143);
  t.same(f.seqs('old'), [2], 'only the added line of the file found at the start');
  t.same(f.seqs('later'), [0], 'a file that appeared later is read whole');
  t.equal(r.stderr, '', 'a missing name is waited for without a word');
});

/**
 * A writer appending `n` lines at about 10,000 a second, one write per line as osquery does,
 * rotating the file every `every` lines as `rotate` says.
 */
async function writeWhileRotating(live: string, n: number, every: number, rotate: (k: number) => Promise<void> | void): Promise<void> {
  let seq = 0;
  let k = 0;
  while (seq < n) {
    const started = Date.now();
    for (let i = 0; i < 50 && seq < n; i++) appendFileSync(live, line(seq++));
    if (seq % every < 50 && seq < n) await rotate(k++);
    await sleep(Math.max(0, 5 - (Date.now() - started)));
  }
}

t.test('100,000 lines written at ~10,000/s through many rotations of each kind: each line once, in order', async (t) => {
  const n = 100_000;
  const kinds: Record<string, (live: string, f: Follower) => (k: number) => Promise<void> | void> = {
    // osquery --logger_rotate: .k shifts up, the live file becomes .1, the next write makes a new one.
    rename: (live) => (k) => {
      for (let j = Math.min(k, 3); j >= 1; j--) renameSync(`${live}.${j}`, `${live}.${j + 1}`);
      renameSync(live, `${live}.1`);
    },
    // Deleted outright and recreated by the next write.
    delete: (live) => () => rmSync(live),
    // logrotate copytruncate. What is written between the follower's last read and the
    // truncation is only in the copy (logrotate's own documentation says so): the writer
    // waits until the follower has caught up, and the test checks everything after that.
    copytruncate: (live, f) => async () => {
      const written = f.seqs().length;
      await waitFor(() => f.seqs().length >= written, 5000);
      copyFileSync(live, `${live}.1`);
      truncateSync(live, 0);
    },
  };
  await Promise.all(
    Object.entries(kinds).map(async ([kind, make]) => {
      const d = join(dir, `stress-${kind}`);
      fresh(d);
      const live = join(d, 'osqueryd.results.log');
      writeFileSync(live, '');
      const f = follow([live]);
      await sleep(300);
      await writeWhileRotating(live, n, kind === 'copytruncate' ? 20000 : 15000, make(live, f));
      const all = await waitFor(() => f.seqs().length >= n, 30000);
      const r = await f.stop();
      const got = f.seqs();
      t.ok(all, `${kind}: ${got.length} of ${n} events`);
      let inOrder = true;
      for (let i = 0; i < got.length && inOrder; i++) inOrder = got[i] === i;
      t.ok(inOrder && got.length === n, `${kind}: each line once, in order`);
      t.equal(r.code, 143, `${kind}: ${r.stderr}`);
    }),
  );
});

/** `d`, made empty. */
function fresh(d: string): void {
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
}
