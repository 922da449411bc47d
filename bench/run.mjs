#!/usr/bin/env node
// `make bench`: oqfwd against naive baselines and installed peers, on the same generated
// data, in the same run, alternating, several runs, medians. Installs nothing: what is
// missing is said and skipped.
//
//   BENCH_MB=100 BENCH_RUNS=3 node bench/run.mjs
//
// Timings never go in the test suite; this is where they live.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DATA = ROOT + 'bench/data/';
const OQFWD = ROOT + 'dist/bin/oqfwd.js';
const MB = Number(process.env.BENCH_MB ?? 100);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TIME = '/usr/bin/time';
const TIMES = DATA + 'time.out';

function have(cmd, args = ['--version']) {
  return spawnSync(cmd, args, { stdio: 'ignore' }).error === undefined;
}

const hasTime = existsSync(TIME) && spawnSync(TIME, ['-f', '%e', 'true'], { stdio: 'ignore' }).status === 0;

/** Generates (once) a data file; returns its path and what the generator counted. */
function data(kind, mb, seed) {
  mkdirSync(DATA, { recursive: true });
  const path = `${DATA}${kind}-${mb}MB-seed${seed}.log`;
  const meta = path + '.json';
  if (!existsSync(path) || !existsSync(meta)) {
    process.stderr.write(`generating ${path} ...\n`);
    const fd = openSync(path, 'w');
    const r = spawnSync(process.execPath, [ROOT + 'bench/generate.mjs', kind, String(mb), String(seed)], { stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    if (r.status !== 0) throw new Error(`generating ${path} failed: ${r.stderr}`);
    writeFileSync(meta, r.stderr.toString().trim());
  }
  return { path, bytes: statSync(path).size, ...JSON.parse(readFileSync(meta, 'utf8')) };
}

/** One timed run: wall and CPU seconds, peak RSS in KiB (from GNU time when present). */
function timed(argv) {
  if (hasTime) {
    const r = spawnSync(TIME, ['-f', '%e %U %S %M', '-o', TIMES, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 2 ** 26 });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 500)}`);
    const last = readFileSync(TIMES, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    return { wall: last[0], cpu: last[1] + last[2], rss: last[3] };
  }
  const t = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'ignore'] });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return { wall: Number(process.hrtime.bigint() - t) / 1e9, cpu: NaN, rss: NaN };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** Runs every command of a scenario RUNS times, alternating their order; medians. */
function measure(commands) {
  const runs = commands.map(() => []);
  for (let r = 0; r < RUNS; r++) {
    const order = commands.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) runs[i].push(timed(commands[i].argv));
  }
  return commands.map((c, i) => ({
    ...c,
    wall: median(runs[i].map((x) => x.wall)),
    cpu: median(runs[i].map((x) => x.cpu)),
    rss: Math.max(...runs[i].map((x) => x.rss)),
  }));
}

const rows = [];
const notes = [];

function scenario(name, file, events, commands) {
  process.stderr.write(`measuring ${name} (${(file.bytes / 1e6).toFixed(0)} MB, ${RUNS} runs) ...\n`);
  const results = measure(commands);
  const base = results.find((r) => r.baseline) ?? null;
  for (const r of results) {
    rows.push({
      scenario: name,
      command: r.label,
      mbs: file.bytes / 1e6 / r.wall,
      lines: file.lines / r.wall,
      events: (r.events ?? events) / r.wall,
      wall: r.wall,
      cpu: r.cpu,
      rss: r.rss / 1024,
      wallRatio: base ? r.wall / base.wall : NaN,
      cpuRatio: base ? r.cpu / base.cpu : NaN,
    });
  }
}

const node = process.execPath;
const naive = (mode, file) => [node, ROOT + 'bench/naive.mjs', mode, file];
const oq = (...args) => [node, OQFWD, ...args];

/** Events oqfwd writes for a file, from its own --stats. */
function eventsOf(...args) {
  const r = spawnSync(node, [OQFWD, '--stats', '--host', 'bench', ...args], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 2 ** 26 });
  return Number(/stats: events +(\d+)/.exec(r.stderr.toString())?.[1] ?? NaN);
}

const results = data('results', MB, 1);
const snapshots = data('snapshots', MB, 2);
const status = data('status', MB, 3);
const mixed = data('mixed', Math.max(1, Math.round(MB / 2)), 4);

const hasJq = have('jq');
scenario('results', results, eventsOf(results.path), [
  { label: 'naive loop (baseline)', argv: naive('loop', results.path), baseline: true },
  { label: 'naive loop via split2', argv: naive('split2', results.path) },
  { label: 'naive loop via ndjson', argv: naive('ndjson', results.path) },
  ...(hasJq ? [{ label: 'jq -c .', argv: ['jq', '-c', '.', results.path] }] : []),
  { label: 'oqfwd', argv: oq(results.path) },
]);
if (!hasJq) notes.push('jq: not installed, not measured (apt-get install jq)');

scenario('snapshots --flatten', snapshots, eventsOf('--flatten', snapshots.path), [
  { label: 'naive flatten loop (baseline)', argv: naive('flatten', snapshots.path), baseline: true },
  { label: 'oqfwd --flatten', argv: oq('--flatten', snapshots.path) },
]);

scenario('glog status', status, eventsOf(status.path), [
  { label: 'naive glog loop (baseline)', argv: naive('glog', status.path), baseline: true },
  { label: 'oqfwd', argv: oq('--host', 'bench', status.path) },
  { label: 'oqfwd --tz Europe/Berlin', argv: oq('--host', 'bench', '--tz', 'Europe/Berlin', status.path) },
]);

scenario('mixed stream', mixed, eventsOf(mixed.path), [{ label: 'oqfwd (no baseline reads all kinds)', argv: oq('--host', 'bench', mixed.path) }]);

// Peak RSS must not grow with the input: the results file once, then ten times.
scenario('results x10 (memory)', { ...results, bytes: results.bytes * 10, lines: results.lines * 10 }, eventsOf(results.path) * 10, [
  { label: 'oqfwd, the file 10 times', argv: oq(...Array(10).fill(results.path)) },
]);

// Start-up: `oqfwd --version` against an empty node.
const startup = (argv) => {
  const xs = [];
  for (let i = 0; i < 15; i++) xs.push(timed(argv).wall);
  return median(xs);
};
const nodeStart = startup([node, '-e', '']);
const oqStart = startup(oq('--version'));

notes.push('rsyslog, syslog-ng: file -> TCP is measured once oqfwd has its TCP output (issue 5); not measured here');
for (const peer of ['rsyslogd', 'syslog-ng']) if (!have(peer, ['-v'])) notes.push(`${peer}: not installed`);

const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const fi = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const header = ['scenario', 'command', 'MB/s', 'lines/s', 'events/s', 'wall s', 'CPU s', 'peak RSS MiB', 'wall vs base', 'CPU vs base'];
const table = [header, header.map(() => '---')];
for (const r of rows) table.push([r.scenario, r.command, f(r.mbs, 1), fi(r.lines), fi(r.events), f(r.wall), f(r.cpu), fi(r.rss), f(r.wallRatio), f(r.cpuRatio)]);
const cpu = cpus();
console.log(`oqfwd benchmark: ${cpu.length} x ${cpu[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, BENCH_MB=${MB}, ${RUNS} runs, medians${hasTime ? '' : ' (no GNU time: CPU and RSS not measured)'}`);
console.log('');
for (const row of table) console.log('| ' + row.join(' | ') + ' |');
console.log('');
console.log(`start-up: node -e '' ${f(nodeStart, 3)} s, oqfwd --version ${f(oqStart, 3)} s (${f(oqStart / nodeStart)}x)`);
for (const n of notes) console.log(`note: ${n}`);
