#!/usr/bin/env node
// `make bench`: oqfwd against naive baselines and installed peers, on the same generated
// data, in the same run, alternating, several runs, medians. Installs nothing: what is
// missing is said and skipped.
//
//   BENCH_MB=100 BENCH_RUNS=3 node bench/run.mjs
//
// Timings never go in the test suite; this is where they live.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { cpuOf, freePort, imrelpConfig } from './harness.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DATA = ROOT + 'bench/data/';
const OQFWD = ROOT + 'dist/bin/oqfwd.js';
const MB = Number(process.env.BENCH_MB ?? 100);
/** BENCH_ONLY=tcp,relp: only the scenarios whose first word is listed (results, snapshots, glog, mixed, tcp, relp, ...). */
const ONLY = process.env.BENCH_ONLY?.split(',') ?? null;
const wanted = (name) => ONLY === null || ONLY.includes(name.split(/[ -]/)[0].toLowerCase());
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

/** What GNU time wrote last to TIMES (`-f '%e %U %S %M'`): wall and CPU seconds, peak RSS in KiB. */
function gnuTimes() {
  const last = readFileSync(TIMES, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { wall: last[0], cpu: last[1] + last[2], rss: last[3] };
}

/**
 * Where output goes: /dev/null opened write-only, as a shell's `> /dev/null` does. stdio
 * 'ignore' opens it for reading and writing, which oqfwd takes for a closed stdout (exit 4).
 */
const DEV_NULL = openSync('/dev/null', 'w');

/** One timed run: wall and CPU seconds, peak RSS in KiB (from GNU time when present). */
function timed(argv) {
  if (hasTime) {
    const r = spawnSync(TIME, ['-f', '%e %U %S %M', '-o', TIMES, ...argv], { stdio: ['ignore', DEV_NULL, 'pipe'], maxBuffer: 2 ** 26 });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 500)}`);
    return gnuTimes();
  }
  const t = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', DEV_NULL, 'ignore'] });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return { wall: Number(process.hrtime.bigint() - t) / 1e9, cpu: NaN, rss: NaN };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/**
 * Medians of RUNS rounds, and each command's ratios to the baseline: the median over rounds
 * of its time divided by the baseline's in the same round. On a shared machine whose speed
 * drifts by tens of percent from minute to minute, a round's two runs see the same machine;
 * medians taken apart may not.
 */
function summarise(runs, baseIndex) {
  const ratio = (i, key) => (baseIndex < 0 ? NaN : median(runs[i].map((x, r) => x[key] / runs[baseIndex][r][key])));
  return runs.map((rs, i) => ({
    wall: median(rs.map((x) => x.wall)),
    cpu: median(rs.map((x) => x.cpu)),
    rss: Math.max(...rs.map((x) => x.rss)),
    wallRatio: ratio(i, 'wall'),
    cpuRatio: ratio(i, 'cpu'),
  }));
}

/** Runs every command of a scenario RUNS times, alternating their order. */
function measure(commands) {
  const runs = commands.map(() => []);
  for (let r = 0; r < RUNS; r++) {
    const order = commands.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) runs[i].push(timed(commands[i].argv));
  }
  const sums = summarise(runs, commands.findIndex((c) => c.baseline));
  return commands.map((c, i) => ({ ...c, ...sums[i] }));
}

const rows = [];
const notes = [];

function scenario(name, file, events, commands) {
  if (!wanted(name)) return;
  process.stderr.write(`measuring ${name} (${(file.bytes / 1e6).toFixed(0)} MB, ${RUNS} runs) ...\n`);
  const results = measure(commands);
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
      wallRatio: r.wallRatio,
      cpuRatio: r.cpuRatio,
    });
  }
}

const node = process.execPath;
const naive = (mode, file) => [node, ROOT + 'bench/naive.mjs', mode, file];
const oq = (...args) => [node, OQFWD, ...args];

/** Events oqfwd writes for a file, from its own --stats. */
function eventsOf(...args) {
  const r = spawnSync(node, [OQFWD, '--stats', '--host', 'bench', ...args], { stdio: ['ignore', DEV_NULL, 'pipe'], maxBuffer: 2 ** 26 });
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
  // Added fields are written where each event is: their cost is that of the event alone.
  { label: 'oqfwd --timestamp', argv: oq('--timestamp', results.path) },
  { label: 'oqfwd --event-id', argv: oq('--event-id', results.path) },
  { label: "oqfwd --query 'pack_*'", argv: oq('--query', 'pack_*', results.path) },
  // A fresh state each run (else every run after the first would have nothing new to ship).
  { label: 'oqfwd --state (positions saved)', argv: ['sh', '-c', 'rm -f "$0"; exec "$@"', DATA + 'state.json', ...oq('--state', DATA + 'state.json', results.path)] },
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
const nodeStart = wanted('startup') ? startup([node, '-e', '']) : NaN;
const oqStart = wanted('startup') ? startup(oq('--version')) : NaN;
// A one-line conversion: what a script pays per call, run and pipeline loaded.
const ONE_LINE = DATA + 'one-line.log';
writeFileSync(ONE_LINE, '{"name":"q","hostIdentifier":"h","unixTime":1,"columns":{"a":"1"},"action":"added"}\n');
const oqOneLine = wanted('startup') ? startup(oq(ONE_LINE)) : NaN;

// File -> TCP to a local receiver that counts lines: oqfwd against rsyslog (imfile +
// mmjsonparse + omfwd) and syslog-ng (file + json-parser + network), where
// test/peers/fetch.sh unpacked them or they are installed.
const PEERS = ROOT + '.peers/';
function peer(name, bin) {
  if (existsSync(PEERS + name + '/' + bin)) return { bin: PEERS + name + '/' + bin, unpacked: true };
  const cmd = bin.split('/').pop();
  return have(cmd, name === 'rsyslog' ? ['-v'] : ['--version']) ? { bin: cmd, unpacked: false } : null;
}
const rsyslogd = peer('rsyslog', 'usr/sbin/rsyslogd');
const syslogNg = peer('syslog-ng', 'usr/sbin/syslog-ng');

/** Starts the counting receiver; resolves with its port and a promise of its end. */
function counter(expect, mode = 'tcp') {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [ROOT + 'bench/count-receiver.mjs', '0', String(expect), '600', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    // Ended when every line arrived ("done"), not when the receiver exits after the close.
    let end;
    const ended = new Promise((r) => (end = r));
    child.on('close', (code) => end({ code, out }));
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (/done|timeout/.test(out)) end({ code: /done/.test(out) ? 0 : 1, out });
      const m = /listening (\d+)/.exec(out);
      if (m && !child.port) {
        child.port = Number(m[1]);
        resolve({ port: child.port, ended });
      }
    });
    child.on('error', reject);
  });
}

/**
 * rsyslog reading `file` with imfile, parsing each line with mmjsonparse and sending it as
 * JSON (ended by `end`) through the action `output`, after loading `modules`.
 */
function rsyslogForwarder(work, file, modules, end, output) {
  return `global(workDirectory="${work}" maxMessageSize="1m")
module(load="imfile")
module(load="mmjsonparse")
${modules}template(name="json" type="string" string="%$!all-json%${end}")
input(type="imfile" file="${file}" tag="osquery" ruleset="fwd")
ruleset(name="fwd") {
  action(type="mmjsonparse" cookie="")
  action(${output} template="json")
}
`;
}

/** How each peer forwards `file` to `port`: its command line and environment. */
const forwarders = {
  rsyslog(file, port, work) {
    writeFileSync(work + 'rsyslog.conf', rsyslogForwarder(work, file, '', '\\n', `type="omfwd" target="127.0.0.1" port="${port}" protocol="tcp"`));
    const lib = rsyslogd.unpacked ? PEERS + 'rsyslog/usr/lib/x86_64-linux-gnu' : '/usr/lib/x86_64-linux-gnu';
    return { argv: [rsyslogd.bin, '-n', '-f', work + 'rsyslog.conf', '-i', work + 'pid', '-M', lib + '/rsyslog'], env: { LD_LIBRARY_PATH: lib } };
  },
  'syslog-ng'(file, port, work) {
    // flow-control: without it syslog-ng drops what its output queue cannot hold.
    writeFileSync(
      work + 'syslog-ng.conf',
      `@version: 3.38
options { log-msg-size(1048576); stats_freq(0); };
source s { file("${file}" flags(no-parse) follow-freq(1) log-msg-size(1048576)); };
parser p { json-parser(prefix(".j.")); };
destination d { network("127.0.0.1" port(${port}) transport("tcp") template("$(format-json --key .j.* --shift 3)\\n")); };
log { source(s); parser(p); destination(d); flags(flow-control); };
`,
    );
    const ng = PEERS + 'syslog-ng/';
    const argv = [syslogNg.bin, '-F', '--no-caps', '-f', work + 'syslog-ng.conf', '-R', work + 'persist', '-p', work + 'pid', '-c', work + 'ctl'];
    if (!syslogNg.unpacked) return { argv, env: {} };
    argv.splice(3, 0, `--module-path=${ng}usr/lib/syslog-ng/3.38`);
    return { argv, env: { LD_LIBRARY_PATH: [ng + 'lib/x86_64-linux-gnu', ng + 'usr/lib/x86_64-linux-gnu', ng + 'usr/lib/syslog-ng'].join(':') } };
  },
};

async function forwardRun(kind, file, expect) {
  const ours = kind.startsWith('oqfwd');
  const scheme = kind === 'oqfwd-relp' ? 'relp' : 'tcp';
  const rx = await counter(expect, scheme);
  const started = process.hrtime.bigint();
  let child;
  let cpu = NaN;
  let rss = NaN;
  if (ours) {
    child = spawn(TIME, ['-f', '%e %U %S %M', '-o', TIMES, node, OQFWD, '-o', `${scheme}://127.0.0.1:${rx.port}`, file], { stdio: 'ignore' });
  } else {
    const work = DATA + kind + '-work/';
    spawnSync('rm', ['-rf', work]);
    mkdirSync(work, { recursive: true });
    const { argv, env } = forwarders[kind](file, rx.port, work);
    child = spawn(argv[0], argv.slice(1), { stdio: 'ignore', env: { ...process.env, ...env } });
  }
  const { code, out } = await rx.ended;
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  if (ours) {
    await new Promise((r) => child.on('close', r));
    ({ cpu, rss } = gnuTimes());
  } else {
    cpu = cpuOf(child.pid);
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    rss = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
    child.kill('SIGTERM');
    await new Promise((r) => child.on('close', r));
  }
  if (code !== 0) throw new Error(`${kind} -> TCP: the receiver did not get every line (${out.trim()})`);
  return { wall, cpu, rss };
}

const peersHere = [rsyslogd && 'rsyslog', syslogNg && 'syslog-ng'].filter(Boolean);
if (rsyslogd === null) notes.push('rsyslog: not installed and not unpacked (bash test/peers/fetch.sh): not measured as a forwarder');
if (syslogNg === null) notes.push('syslog-ng: not installed and not unpacked (bash test/peers/fetch.sh): not measured as a forwarder');
if (peersHere.length > 0 && !hasTime) notes.push('file -> TCP needs GNU time: not measured');
if (peersHere.length > 0 && hasTime && wanted('tcp')) {
  process.stderr.write(`measuring file -> TCP (${(results.bytes / 1e6).toFixed(0)} MB, ${RUNS} runs) ...\n`);
  const expect = eventsOf(results.path);
  // oqfwd over RELP into a receiver as cheap as the TCP one: what the protocol costs the sender.
  const kinds = [...peersHere, 'oqfwd', 'oqfwd-relp'];
  const runs = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let r = 0; r < RUNS; r++) {
    for (const kind of r % 2 === 0 ? kinds : [...kinds].reverse()) runs[kind].push(await forwardRun(kind, results.path, expect));
  }
  // The baseline is rsyslog, the C forwarder the targets name; syslog-ng where it is alone.
  const sums = summarise(kinds.map((k) => runs[k]), 0);
  const labels = {
    rsyslog: 'rsyslog imfile + mmjsonparse + omfwd',
    'syslog-ng': 'syslog-ng file + json-parser + network',
    oqfwd: 'oqfwd -o tcp://',
    'oqfwd-relp': 'oqfwd -o relp:// (acknowledging counter)',
  };
  kinds.forEach((kind, i) => {
    const m = sums[i];
    const label = labels[kind] + (i === 0 ? ' (baseline)' : '');
    rows.push({ scenario: 'file -> TCP', command: label, mbs: results.bytes / 1e6 / m.wall, lines: results.lines / m.wall, events: expect / m.wall, wall: m.wall, cpu: m.cpu, rss: m.rss / 1024, wallRatio: m.wallRatio, cpuRatio: m.cpuRatio });
  });
}

// File -> RELP into a real rsyslog imrelp receiver that acknowledges only what it wrote
// (direct queue, omfile flushed per transaction): oqfwd against rsyslog's own imfile +
// mmjsonparse + omrelp forwarding the same file. oqfwd over plain TCP into the same
// rsyslog (imtcp, same output) shows what RELP itself costs: on two cores the receiver's
// work competes with the sender's, which the TCP scenario's counting receiver hides.
const rsyslogLib = rsyslogd === null ? null : rsyslogd.unpacked ? PEERS + 'rsyslog/usr/lib/x86_64-linux-gnu' : '/usr/lib/x86_64-linux-gnu';
const hasRelp = rsyslogLib !== null && existsSync(rsyslogLib + '/rsyslog/imrelp.so') && existsSync(rsyslogLib + '/rsyslog/omrelp.so');

function rsyslog(work, conf) {
  mkdirSync(work, { recursive: true });
  writeFileSync(work + 'rsyslog.conf', conf);
  return spawn(rsyslogd.bin, ['-n', '-f', work + 'rsyslog.conf', '-i', work + 'pid', '-M', rsyslogLib + '/rsyslog'], { stdio: 'ignore', env: { ...process.env, LD_LIBRARY_PATH: rsyslogLib } });
}

async function listening(port) {
  const { connect } = await import('node:net');
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => {
      const c = connect(port, '127.0.0.1', () => r(c.destroy() || true));
      c.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

const countLines = (path) => {
  const b = readFileSync(path);
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
};

/** When `path` holds `expect` lines: polled by size, the time of its last growth. */
async function filled(path, expect, started) {
  let size = -1;
  let grew = started;
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    const now = existsSync(path) ? statSync(path).size : 0;
    if (now !== size) {
      size = now;
      grew = process.hrtime.bigint();
      continue;
    }
    if (size > 0 && countLines(path) >= expect) return Number(grew - started) / 1e9;
    if (Number(process.hrtime.bigint() - grew) / 1e9 > 60) throw new Error(`${path}: ${countLines(path)} of ${expect} lines`);
  }
}

async function relpRun(kind, file, expect) {
  const work = DATA + 'relp-' + kind + '/';
  spawnSync('rm', ['-rf', work]);
  const port = await freePort();
  const tcpPort = await freePort();
  const out = work + 'out.log';
  const extra = `module(load="imtcp" maxSessions="4")\ninput(type="imtcp" port="${tcpPort}" address="127.0.0.1")\n`;
  const rx = rsyslog(work + 'rx/', imrelpConfig({ work: work + 'rx', port, out, extra }));
  await listening(port);
  await listening(tcpPort);
  const started = process.hrtime.bigint();
  let wall;
  let cpu;
  let rss;
  if (kind === 'oqfwd' || kind === 'oqfwd-tcp') {
    const relp = kind === 'oqfwd';
    const dest = relp ? `relp://127.0.0.1:${port}` : `tcp://127.0.0.1:${tcpPort}`;
    const child = spawn(TIME, ['-f', '%e %U %S %M', '-o', TIMES, node, OQFWD, '-o', dest, file], { stdio: 'ignore' });
    const closed = new Promise((r) => child.on('close', r));
    // Over RELP an event is acknowledged once written, so the exit is the end; over TCP the
    // end is the last line written (the confirmation at the end comes after it).
    if (!relp) wall = await filled(out, expect, started);
    const code = await closed;
    if (relp) wall = Number(process.hrtime.bigint() - started) / 1e9;
    if (code !== 0) throw new Error(`oqfwd -o ${dest} exited ${code}`);
    ({ cpu, rss } = gnuTimes());
    if (countLines(out) < expect) throw new Error(`oqfwd -o ${dest}: ${countLines(out)} of ${expect} events written`);
  } else {
    const fwd = rsyslog(work + 'fwd/', rsyslogForwarder(work + 'fwd', file, 'module(load="omrelp")\n', '', `type="omrelp" target="127.0.0.1" port="${port}"`));
    wall = await filled(out, expect, started);
    cpu = cpuOf(fwd.pid);
    rss = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${fwd.pid}/status`, 'utf8'))?.[1]);
    fwd.kill('SIGTERM');
    await new Promise((r) => fwd.on('close', r));
  }
  rx.kill('SIGTERM');
  await new Promise((r) => rx.on('close', r));
  spawnSync('rm', ['-rf', work]);
  return { wall, cpu, rss };
}

if (!hasRelp) notes.push('rsyslog with imrelp/omrelp: not unpacked (bash test/peers/fetch.sh): file -> RELP not measured');
if (hasRelp && hasTime && wanted('relp')) {
  process.stderr.write(`measuring file -> RELP (${(results.bytes / 1e6).toFixed(0)} MB, ${RUNS} runs) ...\n`);
  const expect = eventsOf(results.path);
  const kinds = ['rsyslog', 'oqfwd', 'oqfwd-tcp'];
  const runs = { rsyslog: [], oqfwd: [], 'oqfwd-tcp': [] };
  for (let r = 0; r < RUNS; r++) {
    for (const kind of r % 2 === 0 ? kinds : [...kinds].reverse()) runs[kind].push(await relpRun(kind, results.path, expect));
  }
  const sums = summarise(kinds.map((k) => runs[k]), 0);
  const labels = { rsyslog: 'rsyslog imfile + mmjsonparse + omrelp (baseline)', oqfwd: 'oqfwd -o relp://', 'oqfwd-tcp': 'oqfwd -o tcp:// into the same rsyslog (imtcp)' };
  kinds.forEach((kind, i) => {
    const m = sums[i];
    rows.push({ scenario: 'file -> RELP', command: labels[kind], mbs: results.bytes / 1e6 / m.wall, lines: results.lines / m.wall, events: expect / m.wall, wall: m.wall, cpu: m.cpu, rss: m.rss / 1024, wallRatio: m.wallRatio, cpuRatio: m.cpuRatio });
  });
}

// Archives: osquery's rotated .N.zst read directly, against the zstd CLI in front of oqfwd.
if (wanted('zst') && have('zstd')) {
  const zst = results.path + '.zst';
  if (!existsSync(zst)) spawnSync('zstd', ['-q', '-1', '-f', results.path, '-o', zst]);
  process.stderr.write(`measuring results .zst (${RUNS} runs) ...\n`);
  const cmds = [
    ['oqfwd on the plain file (baseline)', [node, OQFWD, results.path]],
    ['oqfwd FILE.zst', [node, OQFWD, zst]],
    ['zstd -dc FILE.zst | oqfwd', ['sh', '-c', `zstd -dc '${zst}' | '${node}' '${OQFWD}'`]],
  ];
  const runs = cmds.map(() => []);
  const events = eventsOf(results.path);
  for (let r = 0; r < RUNS; r++) cmds.forEach(([, argv], i) => runs[i].push(timed(argv)));
  const sums = summarise(runs, 0);
  cmds.forEach(([label], i) => {
    const m = sums[i];
    rows.push({ scenario: 'results .zst', command: label, mbs: results.bytes / 1e6 / m.wall, lines: results.lines / m.wall, events: events / m.wall, wall: m.wall, cpu: m.cpu, rss: m.rss / 1024, wallRatio: m.wallRatio, cpuRatio: m.cpuRatio });
  });
} else if (wanted('zst')) notes.push('zstd: not installed, .zst not measured (apt-get install zstd)');

// Following: how soon an appended line comes out (through a rotation), what an idle
// follower costs, its memory; beside tail -F.
const follows = [];
if (wanted('follow')) {
  process.stderr.write('measuring --follow latency and idle cost ...\n');
  for (const kind of ['oqfwd', 'tail']) follows.push({ kind, ...(await followRun(kind)) });
}

async function followRun(kind) {
  const { appendFileSync, renameSync, rmSync, symlinkSync } = await import('node:fs');
  const dir = DATA + 'follow-' + kind + '/';
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const live = dir + 'osqueryd.results.log';
  writeFileSync(live, '');
  writeFileSync(dir + 'osqueryd.snapshots.log', '');
  writeFileSync(dir + 'osqueryd.INFO.20261201-000000.1', 'Log file created at: 2026/12/01 00:00:00\n');
  symlinkSync('osqueryd.INFO.20261201-000000.1', dir + 'osqueryd.INFO');
  const names = [live, dir + 'osqueryd.snapshots.log', dir + 'osqueryd.INFO'];
  const argv = kind === 'oqfwd' ? [node, OQFWD, '--follow', ...names] : ['tail', '-F', '-q', '-n', '+1', ...names];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
  const sent = new Map();
  const lat = [];
  let rest = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    const now = process.hrtime.bigint();
    const text = rest + d;
    const end = text.lastIndexOf('\n') + 1;
    rest = text.slice(end);
    for (const m of text.slice(0, end).matchAll(/"seq":"(\d+)"/g)) {
      const t = sent.get(Number(m[1]));
      if (t !== undefined) lat.push(Number(now - t) / 1e6);
    }
  });
  // Past start-up (compilation and collection of what loading left behind) first.
  await new Promise((r) => setTimeout(r, 5000));
  // Idle: three names, nothing written, for 30 s (CPU time comes in 10 ms ticks).
  const before = cpuOf(child.pid);
  await new Promise((r) => setTimeout(r, 30000));
  const idle = (cpuOf(child.pid) - before) / 30;
  // 300 lines, one every 20 ms, one write each; the file renamed onto .1 halfway.
  for (let seq = 0; seq < 300; seq++) {
    if (seq === 150) renameSync(live, live + '.1');
    sent.set(seq, process.hrtime.bigint());
    appendFileSync(live, `{"name":"q","hostIdentifier":"h","unixTime":1,"epoch":0,"counter":0,"columns":{"seq":"${seq}"},"action":"added"}\n`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 1500));
  const rss = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;
  child.kill('SIGTERM');
  await new Promise((r) => child.on('close', r));
  rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  return { p50: q(0.5), p95: q(0.95), max: lat[lat.length - 1], seen: lat.length, idle, rss };
}

const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const fi = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const header = ['scenario', 'command', 'MB/s', 'lines/s', 'events/s', 'wall s', 'CPU s', 'peak RSS MiB', 'wall vs base', 'CPU vs base'];
const table = [header, header.map(() => '---')];
for (const r of rows) table.push([r.scenario, r.command, f(r.mbs, 1), fi(r.lines), fi(r.events), f(r.wall), f(r.cpu), fi(r.rss), f(r.wallRatio), f(r.cpuRatio)]);
const cpu = cpus();
console.log(`oqfwd benchmark: ${cpu.length} x ${cpu[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, BENCH_MB=${MB}, ${RUNS} runs, medians, ratios to the baseline of the same round${hasTime ? '' : ' (no GNU time: CPU and RSS not measured)'}`);
console.log('');
for (const row of table) console.log('| ' + row.join(' | ') + ' |');
console.log('');
if (follows.length > 0) {
  console.log('| follow | lines seen of 300 | latency p50 ms | p95 ms | max ms | idle CPU % of a core | peak RSS MiB |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of follows) console.log(`| ${r.kind === 'oqfwd' ? 'oqfwd --follow' : 'tail -F'} | ${r.seen} | ${f(r.p50, 1)} | ${f(r.p95, 1)} | ${f(r.max, 1)} | ${f(r.idle * 100, 3)} | ${f(r.rss, 0)} |`);
  console.log('');
}
console.log(`start-up: node -e '' ${f(nodeStart, 3)} s, oqfwd --version ${f(oqStart, 3)} s (${f(oqStart / nodeStart)}x), oqfwd on a one-line file ${f(oqOneLine, 3)} s (${f(oqOneLine / nodeStart)}x)`);
for (const n of notes) console.log(`note: ${n}`);
