// --state across runs of the built binary: a cron job ships only what is new; files rotated
// osquery-style while oqfwd was stopped (their unread rest only inside .2.zst) are finished
// from where delivery stopped; a position never gets ahead of what stdout took.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { BIN, cli, emptyDir, follow, line, scratch, sleep, tracked, waitFor } from './helpers.js';

const dir = scratch('resume');
const hasZstd = spawnSync('zstd', ['--version']).status === 0;
const lines = (from: number, to: number, file = 'r'): string => Array.from({ length: to - from }, (_, i) => line(from + i, file)).join('');
const seqs = (out: string, file = 'r'): number[] => [...out.matchAll(new RegExp(`"file":"${file}","seq":"(\\d+)"`, 'g'))].map((m) => Number(m[1]));
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** osquery's --logger_rotate: .k.zst to .(k+1).zst, .1 compressed into .2.zst, the live file onto .1. */
function rotate(live: string): void {
  for (let k = 20; k >= 2; k--) if (existsSync(`${live}.${k}.zst`)) renameSync(`${live}.${k}.zst`, `${live}.${k + 1}.zst`);
  if (existsSync(live + '.1')) {
    const r = spawnSync('zstd', ['-q', '-1', live + '.1', '-o', live + '.2.zst']);
    if (r.status !== 0) throw new Error(`zstd: ${r.stderr}`);
  }
  renameSync(live, live + '.1');
}

t.test('a cron job: each run ships only what is new, and a line still being written waits for the next', async (t) => {
  const d = emptyDir(join(dir, 'cron'));
  const log = join(d, 'osqueryd.results.log');
  const state = join(d, 'state.json');
  writeFileSync(log, lines(0, 5));
  let r = await cli(['--state', state, log]);
  t.equal(r.code, 0);
  t.same(seqs(r.stdout), range(0, 5), 'the first run: everything');
  t.equal(statSync(state).mode & 0o777, 0o600, 'the state file is 0600');
  r = await cli(['--state', state, log]);
  t.equal(r.code, 0);
  t.equal(r.stdout, '', 'nothing new: nothing shipped');
  const half = line(6);
  appendFileSync(log, line(5) + half.slice(0, 30));
  r = await cli(['--state', state, log]);
  t.same(seqs(r.stdout), [5], 'the new line');
  t.match(r.stderr, /line 7 has no newline yet \(30 bytes\): left for the next run/, 'the half line is said, not shipped');
  t.notMatch(r.stdout, /unparsed/);
  appendFileSync(log, half.slice(30) + 'not osquery\n');
  r = await cli(['--state', state, log]);
  t.same(seqs(r.stdout), [6], 'the completed line, whole');
  t.match(r.stderr, /osqueryd\.results\.log:8: not an osquery line/, 'line numbers go on from the saved position');
});

t.test('stopped while the file was rotated twice: exactly the lines written meanwhile, once each, oldest first', { skip: hasZstd ? false : 'no zstd CLI' }, async (t) => {
  const d = emptyDir(join(dir, 'rotated'));
  const live = join(d, 'osqueryd.results.log');
  const state = join(d, 'state.json');
  writeFileSync(live, lines(0, 100));
  let r = await cli(['--state', state, live]);
  t.same(seqs(r.stdout), range(0, 100));
  // While oqfwd is stopped: appended, rotated (the rest is in .1), appended, rotated again
  // (.1 is compressed into .2.zst: the unread rest is only in the archive now), appended.
  appendFileSync(live, lines(100, 150));
  rotate(live);
  writeFileSync(live, lines(150, 200));
  rotate(live);
  writeFileSync(live, lines(200, 230));
  t.ok(existsSync(live + '.2.zst') && existsSync(live + '.1'), 'osquery-style archives');
  r = await cli(['--state', state, live]);
  t.equal(r.code, 0, r.stderr);
  t.same(seqs(r.stdout), range(100, 230), 'from the archive, then .1, then the live file');
  r = await cli(['--state', state, live]);
  t.equal(r.stdout, '', 'and the run after ships nothing again');
});

t.test('--osquery-dir with --state: each log from where the last run left it, the status log through a worker restart', async (t) => {
  const d = emptyDir(join(dir, 'osq'));
  const state = join(d, 'state.json');
  const results = join(d, 'osqueryd.results.log');
  const info1 = join(d, 'osqueryd.INFO.20261130-100000.100');
  const glog = (n: number, m: string): string => `I1130 10:00:0${n}.000000  100 x.cpp:1] ${m}\n`;
  writeFileSync(results, lines(0, 3));
  writeFileSync(info1, 'Log file created at: 2026/11/30 10:00:00\nRunning on machine: box-1\n' + glog(1, 'one'));
  symlinkSync('osqueryd.INFO.20261130-100000.100', join(d, 'osqueryd.INFO'));
  let r = await cli(['--state', state, '--osquery-dir', d]);
  t.equal(r.code, 0, r.stderr);
  t.same(seqs(r.stdout), range(0, 3));
  t.equal((r.stdout.match(/"kind":"status"/g) ?? []).length, 1);
  appendFileSync(info1, glog(2, 'two'));
  appendFileSync(results, lines(3, 4));
  // The worker restarts: a new INFO file, the symlink moved.
  const info2 = join(d, 'osqueryd.INFO.20261130-100100.200');
  writeFileSync(info2, 'Log file created at: 2026/11/30 10:01:00\nRunning on machine: box-1\n' + glog(3, 'three'));
  rmSync(join(d, 'osqueryd.INFO'));
  symlinkSync('osqueryd.INFO.20261130-100100.200', join(d, 'osqueryd.INFO'));
  r = await cli(['--state', state, '--osquery-dir', d]);
  t.equal(r.code, 0, r.stderr);
  t.same(seqs(r.stdout), [3], 'the new result');
  const messages = [...r.stdout.matchAll(/"message":"(\w+)"/g)].map((m) => m[1]);
  t.same(messages, ['two', 'three'], 'the rest of the old status file, then the new one');
  t.match(r.stdout, /"hostIdentifier":"box-1"/, "a file resumed part of the way through still has its header's machine");
});

t.test('the state never gets ahead of what stdout took', async (t) => {
  const d = emptyDir(join(dir, 'slow'));
  const log = join(d, 'big.log');
  writeFileSync(log, lines(0, 200000));
  const state = join(d, 'state.json');
  // A reader that takes nothing for a while: writes do not complete past the pipe's buffer.
  const child = tracked(spawn(process.execPath, [BIN, '--state', state, log], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] }));
  child.stdout!.pause();
  await waitFor(() => existsSync(state), 10000);
  await sleep(1500);
  child.kill('SIGKILL');
  // What it had written: read now, to the end of the pipe.
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  await new Promise((resolve) => child.on('close', resolve));
  const got = seqs(out).length;
  const saved = JSON.parse(readFileSync(state, 'utf8')).inputs[0];
  t.ok(saved.line <= got, `saved after ${saved.line} lines, and ${got} events reached the reader`);
  t.ok(got < 200000, 'the reader did hold oqfwd back');
  // The next run goes on from the saved line: nothing is missing.
  const r = await cli(['--state', state, log], '', {}, 60000);
  const all = new Set([...seqs(out), ...seqs(r.stdout)]);
  t.equal(all.size, 200000, 'no gap between the two runs');
  t.equal(seqs(r.stdout)[0], saved.line, 'the second run begins at the saved line');
});

t.test('standard input has no position; a state file that cannot be read stops the run', async (t) => {
  const d = emptyDir(join(dir, 'misc'));
  let r = await cli(['--state', join(d, 's.json')], line(0));
  t.equal(r.code, 0);
  t.match(r.stderr, /--state keeps no position for standard input/);
  t.same(seqs(r.stdout), [0], 'stdin still converted');
  r = await cli(['--state', d, join(d, 'x')]);
  t.equal(r.code, 7, 'a directory as the state file: exit 7');
  t.match(r.stderr, /^oqfwd: --state .*: Is a directory\n$/);
});

t.test('--follow with --state: stopped, rotated twice, restarted: the lines written meanwhile, once each, oldest first', { skip: hasZstd ? false : 'no zstd CLI' }, async (t) => {
  const d = emptyDir(join(dir, 'follow'));
  const live = join(d, 'osqueryd.results.log');
  const state = join(d, 'state.json');
  writeFileSync(live, lines(0, 20));
  let f = follow(['--poll-interval', '0.1', '--state', state, live]);
  t.ok(await waitFor(() => f.seqs().length === 20, 10000), 'the first lines');
  appendFileSync(live, lines(20, 25) + line(25).slice(0, 50));
  t.ok(await waitFor(() => f.seqs().length === 25, 10000), 'and the appended ones');
  let r = await f.stop();
  t.equal(r.code, 143);
  t.match(r.stderr, /line 26 has no newline yet \(50 bytes\): left for the next run/);
  appendFileSync(live, line(25).slice(50) + lines(26, 40));
  rotate(live);
  writeFileSync(live, lines(40, 60));
  rotate(live);
  writeFileSync(live, lines(60, 70));
  f = follow(['--poll-interval', '0.1', '--state', state, live]);
  t.ok(await waitFor(() => f.seqs().length === 45, 10000), 'the rest, from the archive on');
  appendFileSync(live, lines(70, 72));
  t.ok(await waitFor(() => f.seqs().length === 47, 10000), 'and it goes on following');
  r = await f.stop();
  t.same(f.seqs(), range(25, 72), 'each line written while it was down once, oldest first, the half line whole');
  t.notMatch(f.stdout(), /unparsed/);
});
