#!/usr/bin/env node
// Runs the whole suite with tap and ends with one plain line, `N passed, N failed`,
// taken from tap's own closing counts. The exit status is tap's (non-zero on any failure,
// and when tap's counts cannot be found).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';

const dir = new URL('../dist/test/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.test.js')).map((f) => `dist/test/${f}`);
// Two files at a time: most of the slow ones wait on timers and sockets, not on a core
// (tap's default on two cores is one at a time).
const args = ['--reporter=tap', '--jobs=2', ...process.argv.slice(2), ...files];
const tap = spawn(process.execPath, ['node_modules/tap/dist/esm/run.mjs', ...args], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, TZ: 'UTC', NO_COLOR: '1', TERM: 'dumb' },
});
let tail = '';
let failedFiles = 0;
let partial = '';
tap.stdout.on('data', (d) => {
  process.stdout.write(d);
  const text = partial + d.toString('utf8');
  const lines = text.split('\n');
  partial = lines.pop() ?? '';
  // A file that fails outside any assertion (a bad plan, a crash) shows only here.
  for (const l of lines) if (l.startsWith('not ok ')) failedFiles++;
  tail = (tail + d.toString('utf8')).slice(-4096);
});
tap.on('close', (code) => {
  const m = /^# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?/m.exec(tail.split('\n').filter((l) => l.startsWith('# {')).pop() ?? '');
  if (m === null) {
    console.log('0 passed, 1 failed');
    console.error('test/run.mjs: tap printed no closing counts');
    process.exitCode = code || 1;
    return;
  }
  const pass = Number(m[2] ?? 0);
  let fail = Math.max(Number(m[3] ?? 0), failedFiles);
  if (code !== 0 && fail === 0) fail = 1;
  console.log(`${pass} passed, ${fail} failed`);
  process.exitCode = code ?? 1;
});
