#!/usr/bin/env node
// make soak: oqfwd as a resident forwarder for a long while, against a real receiver that is
// killed and started again, following a results log that is rotated the way osquery rotates
// it. At the end: RSS over time (it must stay flat), events lost (must be 0) and duplicates.
// Not part of `make test`: it takes SOAK_MINUTES (30 by default).
//
//   SOAK_MINUTES=30 SOAK_RATE=500 SOAK_RESTART_S=120 SOAK_ROTATE_S=300 make soak
//
// The receiver is rsyslog's imrelp (test/peers/fetch.sh unpacks it), acknowledging only what
// omfile wrote; SOAK_OUTPUT=tcp uses test/receiver.mjs over TCP instead (restarts alternate a
// clean close, SIGUSR2, and SIGKILL).
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuOf, freePort, imrelpConfig } from './harness.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OQFWD = join(ROOT, 'dist/bin/oqfwd.js');
const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const RATE = Number(process.env.SOAK_RATE ?? 500);
const RESTART_S = Number(process.env.SOAK_RESTART_S ?? 120);
const ROTATE_S = Number(process.env.SOAK_ROTATE_S ?? 300);
const OUTPUT = process.env.SOAK_OUTPUT ?? 'relp';
const RSYSLOG = join(ROOT, '.peers/rsyslog');
const rsyslogd = join(RSYSLOG, 'usr/sbin/rsyslogd');
const rsLib = join(RSYSLOG, 'usr/lib/x86_64-linux-gnu');

if (OUTPUT === 'relp' && !existsSync(join(rsLib, 'rsyslog/imrelp.so'))) {
  console.error('soak: rsyslog with imrelp is not unpacked: run bash test/peers/fetch.sh (or SOAK_OUTPUT=tcp)');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'oqfwd-soak-'));
const log = join(dir, 'osqueryd.results.log');
const out = join(dir, 'received.log');
const state = join(dir, 'state.json');
const children = new Set();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (s) => console.error(`soak: ${s}`);

function cleanup() {
  for (const c of children) c.kill('SIGKILL');
  if (!process.env.SOAK_KEEP) rmSync(dir, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

const exited = (child) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r)));

// ---- the receiver -----------------------------------------------------------------------

const port = await freePort();
const conf = join(dir, 'rsyslog.conf');
writeFileSync(conf, imrelpConfig({ work: dir, port, out }));

function startReceiver() {
  if (OUTPUT === 'relp') {
    return track(spawn(rsyslogd, ['-n', '-f', conf, '-i', join(dir, 'rsyslog.pid'), '-M', join(rsLib, 'rsyslog')], { env: { ...process.env, LD_LIBRARY_PATH: rsLib }, stdio: ['ignore', 'ignore', 'inherit'] }));
  }
  return track(spawn(process.execPath, [join(ROOT, 'test/receiver.mjs'), String(port), out], { stdio: ['ignore', 'ignore', 'inherit'] }));
}

// ---- the input: osquery's results log, rotated by rename ---------------------------------

let seq = 0;
let rotations = 0;
const lineOf = (n) =>
  `{"name":"pack_soak_procs","hostIdentifier":"soak-host","calendarTime":"Wed Dec  2 15:00:00 2026 UTC","unixTime":${1796223600 + Math.floor(n / RATE)},"epoch":0,"counter":${n},"numerics":false,"decorations":{"host_uuid":"4AB2906D-0000-0000-0000-000000000000","hostname":"soak-host"},"columns":{"seq":"${n}","path":"/usr/sbin/sshd","cmdline":"sshd: soak [priv]","pid":"${1000 + (n % 30000)}"},"action":"added"}\n`;
writeFileSync(log, '');
function append(count) {
  let text = '';
  for (let i = 0; i < count; i++) text += lineOf(seq++);
  appendFileSync(log, text);
}
function rotate() {
  // osquery's filesystem logger: results.log -> results.log.1 (older ones shifted first).
  for (let i = 3; i >= 1; i--) if (existsSync(`${log}.${i}`)) renameSync(`${log}.${i}`, `${log}.${i + 1}`);
  renameSync(log, `${log}.1`);
  writeFileSync(log, '');
  rotations++;
}

// ---- oqfwd ------------------------------------------------------------------------------

const dest = OUTPUT === 'relp' ? `relp://127.0.0.1:${port}` : `tcp://127.0.0.1:${port}`;
function startOqfwd() {
  const child = track(spawn(process.execPath, [OQFWD, '--follow', '--state', state, '--stats', '--connect-timeout', '3600', '-o', dest, log], { stdio: ['ignore', 'ignore', 'pipe'] }));
  child.stderrText = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (child.stderrText = (child.stderrText + d).slice(-20000)));
  return child;
}

function rssKiB(pid) {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  } catch {
    return NaN;
  }
}

/** How many of 0..n-1 the receiver wrote, and how many twice or more. */
function received(n) {
  const seen = new Uint32Array(n);
  let torn = 0;
  const text = existsSync(out) ? readFileSync(out, 'latin1') : '';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /"seq":"(\d+)"/.exec(line);
    if (m === null || !line.startsWith('{"kind":"result",') || !line.endsWith('"action":"added"}')) torn++;
    else if (Number(m[1]) < n) seen[Number(m[1])]++;
  }
  let missing = 0;
  let dups = 0;
  for (const c of seen) {
    if (c === 0) missing++;
    else dups += c - 1;
  }
  return { missing, dups, torn };
}

// ---- the run ----------------------------------------------------------------------------

say(`${MINUTES} min, ${RATE} events/s, ${OUTPUT} receiver restarted every ${RESTART_S} s, rotation every ${ROTATE_S} s, in ${dir}`);
let rx = startReceiver();
await sleep(500);
const oq = startOqfwd();
const started = Date.now();
const samples = []; // [seconds, RSS KiB]
let restarts = 0;
let nextRestart = RESTART_S * 1000;
let nextRotate = ROTATE_S * 1000;
let nextSample = 10_000; // the first sample once start-up is over
const perTick = RATE / 10;
let owed = 0;
while (Date.now() - started < MINUTES * 60_000 && oq.exitCode === null) {
  const t = Date.now() - started;
  owed += perTick;
  const n = Math.floor(owed);
  owed -= n;
  append(n);
  if (t >= nextSample) {
    samples.push([Math.round(t / 1000), rssKiB(oq.pid)]);
    nextSample += 10_000;
  }
  if (t >= nextRotate) {
    rotate();
    nextRotate += ROTATE_S * 1000;
  }
  if (t >= nextRestart) {
    // rsyslog is SIGKILLed (what it had not written was not acknowledged); the TCP receiver
    // alternates a clean close of every connection with a kill.
    const hard = OUTPUT === 'relp' || restarts % 2 === 1;
    if (hard) {
      rx.kill('SIGKILL');
      await exited(rx);
      await sleep(1000);
      rx = startReceiver();
    } else {
      rx.kill('SIGUSR2');
    }
    restarts++;
    nextRestart += RESTART_S * 1000;
  }
  await sleep(Math.max(0, (Math.floor(t / 100) + 1) * 100 - (Date.now() - started)));
}
const total = seq;
say(`${total} events written in ${Math.round((Date.now() - started) / 1000)} s; waiting for the receiver to have them all`);
const caughtUp = Date.now();
while (received(total).missing > 0 && Date.now() - caughtUp < 120_000 && oq.exitCode === null) await sleep(1000);
const cpu = cpuOf(oq.pid);
samples.push([Math.round((Date.now() - started) / 1000), rssKiB(oq.pid)]);
oq.kill('SIGTERM');
await exited(oq);
const code = oq.exitCode;
const r = received(total);
rx.kill('SIGTERM');
await exited(rx);

const mib = (k) => (k / 1024).toFixed(1);
const rss = samples.map(([, k]) => k).filter((k) => !Number.isNaN(k));
const sorted = [...rss].sort((a, b) => a - b);
const window = Math.min(30, Math.floor(rss.length / 3)); // the first and last five minutes (30 samples)
const firstMax = Math.max(...rss.slice(0, window));
const lastMax = Math.max(...rss.slice(-window));
console.log(`soak: ${MINUTES} min, ${OUTPUT} to ${OUTPUT === 'relp' ? 'rsyslog imrelp' : 'test/receiver.mjs'}, ${RATE} events/s, ${restarts} receiver restarts, ${rotations} rotations`);
console.log(`events: ${total} written, lost ${r.missing}, duplicates ${r.dups}, torn lines ${r.torn}; oqfwd exit ${code} (143: SIGTERM after flushing)`);
console.log(`RSS MiB over ${rss.length} samples (every 10 s): min ${mib(sorted[0])}, median ${mib(sorted[Math.floor(sorted.length / 2)])}, max ${mib(sorted.at(-1))}; max of the first 5 min ${mib(firstMax)}, of the last 5 min ${mib(lastMax)}`);
console.log(`CPU: ${cpu.toFixed(1)} s in ${MINUTES} min (${((cpu / (MINUTES * 60)) * 100).toFixed(2)}% of a core)`);
console.log(`RSS by minute: ${samples.filter(([s]) => s % 60 < 10).map(([s, k]) => `${Math.round(s / 60)}:${mib(k)}`).join(' ')}`);
const tail = oq.stderrText.trim().split('\n').filter((l) => !l.includes('stats:')).slice(-5);
if (tail.length > 0) console.log(`oqfwd's last reports:\n  ${tail.join('\n  ')}`);
cleanup();
process.exitCode = r.missing === 0 && code === 143 ? 0 : 1;
