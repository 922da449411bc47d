import { spawn } from 'node:child_process';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Converter, type ConvertOptions } from '../lib/convert.js';
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
  let out = '';
  c.open(name);
  for (const chunk of Array.isArray(chunks) ? chunks : [chunks]) {
    c.data(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    out += drain(c);
  }
  if (!c.failure) c.close();
  out += drain(c);
  const events = out === '' ? [] : out.replace(/\n$/, '').split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { out, events, stats, reports, failure: c.failure };
}

/** Everything the converter has to give, resuming it while it is busy (as the pipeline does). */
function drain(c: Converter): string {
  let out = c.take().toString('utf8');
  while (c.busy) {
    c.resume();
    out += c.take().toString('utf8');
  }
  return out;
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
