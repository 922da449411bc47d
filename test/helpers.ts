import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import tap from 'tap';
import { Converter, type ConvertOptions } from '../lib/convert.js';
import { FrameReader, type Frame } from '../lib/output/relp-frame.js';
import { DEFAULT_MAX_LINE } from '../lib/cli.js';
import { Reporter } from '../lib/report.js';
import { newStats, type Stats } from '../lib/stats.js';
import { parseZone } from '../lib/timezone.js';

/** The repository root (tests run from dist/test/). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built command. */
export const BIN = fileURLToPath(new URL('../bin/oqfwd.js', import.meta.url));
/** Real osquery samples kept in the repository (copied from ../shared/corpus/public/, see SOURCES.md there). */
export const CORPUS = fileURLToPath(new URL('../../test/corpus/', import.meta.url));
/** The team's shared corpus beside the repository, when it is there (it may grow). */
export const SHARED_CORPUS = fileURLToPath(new URL('../../../shared/corpus/public/', import.meta.url));

export interface Converted {
  out: string;
  /** The output as the converter made it, byte for byte. */
  bytes: Buffer;
  events: Array<Record<string, unknown>>;
  stats: Stats;
  reports: string;
  /** The line that stopped conversion (--unparsed=fail). */
  failure: unknown;
}

/** Runs the converter over `chunks` as one input named `name`. */
export function convert(chunks: string | Buffer | Array<string | Buffer>, opts: Partial<ConvertOptions> = {}, name = 'in.log'): Converted {
  const stats = newStats();
  let reports = '';
  const base: ConvertOptions = { flatten: false, unparsed: 'forward', maxLine: DEFAULT_MAX_LINE, zone: parseZone('UTC'), host: 'test-host' };
  const c = new Converter({ ...base, ...opts } as ConvertOptions, stats, new Reporter((t) => (reports += t)));
  const made: Buffer[] = [];
  c.open(name);
  for (const chunk of Array.isArray(chunks) ? chunks : [chunks]) {
    c.data(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    drain(c, made);
  }
  if (!c.failure) c.close();
  drain(c, made);
  const bytes = Buffer.concat(made);
  const out = bytes.toString('utf8');
  const events = out === '' ? [] : out.replace(/\n$/, '').split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { out, bytes, events, stats, reports, failure: c.failure };
}

/** Everything the converter has to give, resuming it while it is busy (as the pipeline does); copied, as its buffers are reused. */
function drain(c: Converter, into: Buffer[]): void {
  for (const b of c.take()) into.push(Buffer.from(b));
  while (c.busy) {
    c.resume();
    for (const b of c.take()) into.push(Buffer.from(b));
  }
}

/** mulberry32: a small, seedable pseudo-random sequence in [0, 1), the same for the same seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built oqfwd with `args`, feeding `input` on stdin. Bounded in time. */
export function cli(args: string[], input: string | Buffer = '', env: NodeJS.ProcessEnv = {}, timeoutMs = 30000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, TZ: 'UTC', NO_COLOR: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the child may exit before reading it all
    child.stdin.end(input);
  });
}

/** The lines of NDJSON text, parsed. */
export function parseLines(text: string): Array<Record<string, unknown>> {
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A loopback server that takes one connection, holds its reading for `pauseMs`, then collects every byte until the end. */
export async function collector(pauseMs: number): Promise<{ port: number; received: Promise<Buffer>; close: () => void }> {
  let socket: Socket | null = null;
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const received = new Promise<Buffer>((resolve) => {
    srv.once('connection', (s: Socket) => {
      socket = s;
      const parts: Buffer[] = [];
      s.pause();
      setTimeout(() => s.resume(), pauseMs);
      s.on('data', (d: Buffer) => parts.push(d));
      s.on('end', () => {
        s.end();
        resolve(Buffer.concat(parts));
      });
    });
  });
  return {
    port: (srv.address() as AddressInfo).port,
    received,
    close: () => {
      srv.close();
      socket?.destroy();
    },
  };
}

// Everything a test file starts or makes is ended or removed when the file's tests end, and
// when its process exits: a failing or timed-out test leaves no receiver and no temp files.
const children = new Set<ChildProcess>();
const scratchDirs: string[] = [];
function cleanUp(): void {
  for (const c of children) {
    try {
      c.kill('SIGCONT'); // a stopped process ignores SIGKILL until it runs again on some systems
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
  for (const d of scratchDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
tap.teardown(cleanUp);
process.once('exit', cleanUp);
// tap ends a test file that outlives its timeout with a signal: clean up on the way out too.
for (const [signal, code] of [['SIGALRM', 142], ['SIGTERM', 143], ['SIGINT', 130], ['SIGHUP', 129]] as const) {
  process.once(signal, () => {
    cleanUp();
    process.exit(code);
  });
}

/** `child`, killed (SIGCONT, then SIGKILL) when the test file ends if it still runs. */
export function tracked<C extends ChildProcess>(child: C): C {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A new temporary directory, removed with everything in it when the test file ends. */
export function scratch(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `oqfwd-${prefix}-`));
  scratchDirs.push(d);
  return d;
}

/** `d`, made (or made again) empty; removed with its scratch directory. */
export function emptyDir(d: string): string {
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  return d;
}

/** The exit of `child`, once it happened. */
export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Polls `cond` every 20 ms until it holds or `ms` passed; says which. */
export async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) return false;
    await sleep(20);
  }
  return true;
}

export interface Spawned {
  child: ChildProcess;
  done: Promise<{ code: number | null; stderr: string; ms: number }>;
  stderr: () => string;
}

/** Starts the built oqfwd with `args` (stdin from `stdin`: 'ignore' or 'pipe'), killed after `timeoutMs`. */
export function oqfwd(args: string[], opts: { stdin?: 'ignore' | 'pipe'; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Spawned {
  const started = Date.now();
  const child = tracked(
    spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, NO_COLOR: '1', TZ: 'UTC', ...opts.env },
      stdio: [opts.stdin ?? 'ignore', 'ignore', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120000);
  const done = new Promise<{ code: number | null; stderr: string; ms: number }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Date.now() - started });
    }),
  );
  return { child, done, stderr: () => stderr };
}

/**
 * Runs the built oqfwd with `args` to its end: its exit status, the lines it wrote, and its
 * peak RSS in KiB. tap puts its own loader into every child's NODE_OPTIONS, an env given or
 * not (25 MiB that are not oqfwd's): env(1) takes it out, then execs node under the same pid.
 */
export async function peakRss(args: string[]): Promise<{ code: number | null; lines: number; peakKiB: number }> {
  const child = tracked(spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, BIN, ...args], { env: { PATH: process.env.PATH } }));
  let lines = 0;
  let peakKiB = 0;
  child.stdout!.on('data', (d: Buffer) => {
    for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++;
  });
  // VmHWM is the peak so far: the last reading before the exit is the peak of the run.
  const poll = setInterval(() => {
    try {
      peakKiB = Math.max(peakKiB, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0));
    } catch {
      // exited between two readings
    }
  }, 20);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(poll);
  return { code, lines, peakKiB };
}

/** A file of `n` result events numbered 0..n-1 in `dir`, each padded by `pad` bytes. */
export function numbered(dir: string, n: number, pad = 0): string {
  const path = join(dir, `input-${n}-${pad}.log`);
  if (!existsSync(path)) {
    const filler = 'x'.repeat(pad);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(`{"name":"q","hostIdentifier":"h","unixTime":1795597900,"columns":{"seq":"${i}","v":"42 is a number first${filler}"},"action":"added"}\n`);
    writeFileSync(path, parts.join(''));
  }
  return path;
}

/** Which of the events 0..n-1 are in `text`, and how many event lines it has. */
export function arrivedIn(text: string, n: number): { missing: number; lines: number; bad: number; dups: number } {
  const seen = new Uint8Array(n);
  let lines = 0;
  let bad = 0;
  let dups = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    lines++;
    const m = /"seq":"(\d+)"/.exec(line);
    if (m === null || !line.startsWith('{"kind":"result",')) bad++;
    else if (seen[Number(m[1])]!++) dups++;
  }
  let missing = 0;
  for (let i = 0; i < n; i++) if (seen[i] === 0) missing++;
  return { missing, lines, bad, dups };
}

/** What arrived in the file a receiver wrote (see arrivedIn); nothing when there is no file. */
export function arrived(file: string, n: number): { missing: number; lines: number; bad: number; dups: number } {
  return arrivedIn(existsSync(file) ? readFileSync(file, 'utf8') : '', n);
}

/** Starts test/receiver.mjs on `port`, appending what it reads to `file` (TLS: CERT, KEY, CA in `env`); resolves once it listens. */
export function receiver(port: number, file: string, env: NodeJS.ProcessEnv = {}, tls = false): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const args = [join(ROOT, 'test', 'receiver.mjs'), String(port), file, ...(tls ? ['tls'] : [])];
    const child = tracked(spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] }));
    child.stdout!.once('data', () => resolve(child));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`receiver exited ${code}`)));
  });
}

/** A loopback TCP server whose connections `handle` decides about; closed with everything when the file ends. */
export async function server(handle: (s: Socket) => void, host = '127.0.0.1'): Promise<{ port: number; sockets: Socket[]; close: () => void }> {
  const sockets: Socket[] = [];
  const srv = createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    s.on('error', () => {});
    handle(s);
  });
  await new Promise<void>((r) => srv.listen(0, host, r));
  const close = (): void => {
    srv.close();
    for (const s of sockets) s.destroy();
  };
  tap.teardown(close);
  return { port: (srv.address() as AddressInfo).port, sockets, close };
}

/** A result line numbered `seq`, with `file` in its columns, for tests that check order. */
export const line = (seq: number, file = 'r'): string => `{"name":"q","hostIdentifier":"h","unixTime":1795597900,"epoch":0,"counter":0,"columns":{"file":"${file}","seq":"${seq}"},"action":"added"}\n`;

/** A running `oqfwd --follow`, its output collected. */
export interface Follower {
  /** Sequence numbers of the events written so far, per "file" column. */
  seqs: (file?: string) => number[];
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM, then the exit. */
  stop: () => Promise<{ code: number | null; stderr: string }>;
  /** Sends `signal` (SIGHUP, ...) and goes on. */
  signal: (signal: NodeJS.Signals) => void;
}

/** Starts `oqfwd --follow ARGS`, killed after 90 s if it still runs. */
export function follow(args: string[]): Follower {
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
    signal: (signal) => child.kill(signal),
    stop: async () => {
      child.kill('SIGTERM');
      const code = await closed;
      clearTimeout(killer);
      return { code, stderr: err };
    },
  };
}

/** One connection to {@link relpServer}. */
export interface Session {
  socket: Socket;
  /** Messages of the syslog frames received, in order. */
  messages: string[];
  /** Highest number of syslog frames received and not yet answered. */
  maxOutstanding: number;
  txnrs: number[];
}

/**
 * A RELP server: answers `open` with syslog offered, `close` with an empty rsp, and each
 * `syslog` frame as `answer` says: 'ack', 'hold' (never), '500', or 'serverclose'.
 */
export async function relpServer(answer: (session: number, frame: number) => 'ack' | 'hold' | '500' | 'serverclose') {
  const sessions: Session[] = [];
  const srv = await server((socket) => {
    const s: Session = { socket, messages: [], maxOutstanding: 0, txnrs: [] };
    const index = sessions.push(s) - 1;
    const reader = new FrameReader();
    let outstanding = 0;
    socket.on('data', (d: Buffer) => {
      let frames: Frame[];
      try {
        frames = reader.push(d);
      } catch {
        socket.destroy();
        return;
      }
      for (const f of frames) {
        if (f.command === 'open') socket.write(rsp(f.txnr, '200 OK\nrelp_version=0\nrelp_software=test\ncommands=syslog'));
        else if (f.command === 'close') {
          socket.write(`${f.txnr} rsp 0\n`);
          socket.end();
        } else if (f.command === 'syslog') {
          s.txnrs.push(f.txnr);
          s.messages.push(f.data.toString('utf8'));
          outstanding++;
          s.maxOutstanding = Math.max(s.maxOutstanding, outstanding);
          const what = answer(index, s.messages.length - 1);
          if (what === 'ack') {
            socket.write(`${f.txnr} rsp 6 200 OK\n`);
            outstanding--;
          } else if (what === '500') {
            socket.write(rsp(f.txnr, '500 command disabled'));
          } else if (what === 'serverclose') {
            socket.write('0 serverclose 0\n');
            socket.end();
          }
        }
      }
    });
    socket.on('end', () => socket.end());
  });
  return { ...srv, sessions };
}

/** A response frame, its length counted. */
export const rsp = (txnr: number, data: string): string => `${txnr} rsp ${Buffer.byteLength(data)}${data === '' ? '' : ' ' + data}\n`;
