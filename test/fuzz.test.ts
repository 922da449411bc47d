// Property and fuzz tests (fast-check): random mixtures of every line kind osquery writes,
// random line endings and chunk boundaries, then random damage. CI runs a fixed seed and a
// bounded number of cases; `make fuzz` runs many more from a fresh seed, printed so that a
// failure can be replayed with FUZZ_SEED=... (fast-check also prints the shrunk input).
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import t from 'tap';
import type { ConvertOptions } from '../lib/convert.js';
import { NO_SHAPING } from '../lib/shape.js';
import { parseGlogHeader, parseGlogLine } from '../lib/glog.js';
import { linesRead, type Stats } from '../lib/stats.js';
import { BIN, convert, tracked } from './helpers.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 120);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 20261202;
if (process.env.FUZZ_SEED !== undefined || process.env.FUZZ_RUNS !== undefined) t.comment(`fuzz: seed ${SEED}, ${RUNS} runs a property`);
const params = (runs = RUNS): fc.Parameters<unknown> => ({ seed: SEED, numRuns: runs, endOnFailure: false });

// ---- what osquery writes ------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Text as found in columns: any code point, and the characters that need care on the way out. */
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('\u2028', '\u2029', '\u007f', '\u0085', '\u001b]0;x\u0007', '\u0000', 'C:\\Windows\\x', '/dev/disk1s4', '\ud800', 'é', '😀', '') },
);
/** Keys, with the ones JavaScript treats specially. */
const key = fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 8 }) }, { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', '', 'kind', '_kind') });
/** A column value: a string, or a number under logNumericsAsNumbers (some beyond a double). */
const value: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(18446744073709551615)) },
);
/** Members as [key, JSON text] pairs: written by hand, so __proto__ is an ordinary key. */
const members = (v: fc.Arbitrary<Json>, max = 6): fc.Arbitrary<Array<[string, Json]>> =>
  fc.uniqueArray(fc.tuple(key, v), { maxLength: max, selector: ([k]) => k });
const object = (pairs: Array<[string, Json | { raw: string }]>): string =>
  `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${typeof v === 'object' && v !== null && 'raw' in v ? v.raw : JSON.stringify(v)}`).join(',')}}`;
const row = members(value).map((p) => object(p));
const rows = fc.array(row, { maxLength: 5 });
const raw = (s: string): { raw: string } => ({ raw: s });

/** The envelope, as each osquery version wrote it (numbers, or strings before 3.2). */
const envelope = fc
  .record({
    name: fc.oneof(fc.constantFrom('pack_inv_debs', 'pack/fleet/procs', 'q'), text),
    host: text,
    unixTime: fc.integer({ min: 0, max: 2 ** 32 }),
    epoch: fc.nat(5),
    counter: fc.nat(1000),
    strings: fc.boolean(),
    decorations: fc.option(members(text, 3), { nil: undefined }),
  })
  .map((e) => {
    const n = (x: number): Json => (e.strings ? String(x) : x);
    const pairs: Array<[string, Json | { raw: string }]> = [
      ['name', e.name],
      ['hostIdentifier', e.host],
      ['calendarTime', 'Mon Nov 25 09:11:40 2019 UTC'],
      ['unixTime', n(e.unixTime)],
      ['epoch', n(e.epoch)],
      ['counter', n(e.counter)],
    ];
    if (e.decorations !== undefined) pairs.push(['decorations', raw(object(e.decorations))]);
    return pairs;
  });

interface Line {
  /** The line's text, without its ending. */
  text: string;
  /** The events it must give: kind, and rows under --flatten (null: the whole line, one event). */
  kind: 'result' | 'batch' | 'snapshot' | 'status';
  rows: Array<{ action: string; row: string }> | null;
}

const result = fc.tuple(envelope, row, fc.constantFrom('added', 'removed', 'snapshot')).map(([env, r, action]): Line => ({
  text: object([...env, ['columns', raw(r)], ['action', action]]),
  kind: action === 'snapshot' ? 'snapshot' : 'result',
  rows: null,
}));
const batch = fc.tuple(envelope, rows, rows).map(([env, removed, added]): Line => ({
  text: object([['diffResults', raw(`{"removed":[${removed.join(',')}],"added":[${added.join(',')}]}`)], ...env]),
  kind: 'batch',
  rows: [...removed.map((r) => ({ action: 'removed', row: r })), ...added.map((r) => ({ action: 'added', row: r }))],
}));
const snapshot = fc.tuple(envelope, rows).map(([env, snap]): Line => ({
  text: object([['snapshot', raw(`[${snap.join(',')}]`)], ['action', 'snapshot'], ...env]),
  kind: 'snapshot',
  rows: snap.map((r) => ({ action: 'snapshot', row: r })),
}));
const jsonStatus = fc.tuple(text, fc.integer({ min: 0, max: 3 }), text, fc.boolean()).map(([host, severity, message, strings]): Line => ({
  text: object([
    ['hostIdentifier', host],
    ['calendarTime', 'Wed Mar  2 22:02:54 2022 UTC'],
    ['unixTime', strings ? '1646258574' : 1646258574],
    ['severity', strings ? String(severity) : severity],
    ['filename', 'glog_logger.cpp'],
    ['line', strings ? '49' : 49],
    ['message', message],
    ['version', '5.10.2'],
  ]),
  kind: 'status',
  rows: null,
}));
/** A glog line; its message is printable text (a line break would make it two lines). */
const glog = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }), fc.nat(86399), fc.nat(999999), fc.nat(99999), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }))
  .map(([sev, month, day, secs, micros, tid, message]): Line => {
    const p = (n: number, w: number): string => String(n).padStart(w, '0');
    const clock = `${p(Math.floor(secs / 3600), 2)}:${p(Math.floor(secs / 60) % 60, 2)}:${p(secs % 60, 2)}.${p(micros, 6)}`;
    const msg = message.replace(/[\r\n]/g, ' ');
    return { text: `${'IWEF'[sev]}${p(month, 2)}${p(day, 2)} ${clock} ${String(tid).padStart(5)} init.cpp:418] ${msg}`, kind: 'status', rows: null };
  });

const anyLine = fc.oneof({ weight: 3, arbitrary: result }, batch, snapshot, jsonStatus, glog);
const ending = fc.constantFrom('\n', '\r\n');
/** Lines with their endings; the last may have none (a file cut short, a stream ended). */
const mixture = fc.tuple(fc.array(fc.tuple(anyLine, ending), { minLength: 1, maxLength: 12 }), fc.boolean()).map(([ls, endLast]) => {
  const body = ls.map(([l, e], i) => (i === ls.length - 1 && !endLast ? l.text : l.text + e)).join('');
  return { lines: ls.map(([l]) => l), bytes: Buffer.from(body) };
});

/** Random chunk boundaries for a buffer of `n` bytes (some of one byte: split UTF-8, split CRLF). */
const cuts = fc.array(fc.oneof(fc.nat(4), fc.nat(300)), { minLength: 1, maxLength: 40 });
function chunked(bytes: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = 1 + sizes[i % sizes.length]!;
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

// ---- damage -------------------------------------------------------------------------------

const SPECIAL = [[0x00], [0x1b], [0xe2, 0x80, 0xa8], [0xff], [0xc3], [0xed, 0xa0, 0x80], [0x0d], [0x7b], [0x7d], [0x22], [0x5c], [0x5d], [0x7f], [0xc2, 0x85]];
type Damage = (b: Buffer) => Buffer;
const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.double({ min: 0, max: 1, noNaN: true }).map((f): Damage => (b) => b.subarray(0, Math.floor(f * b.length))), // truncation
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 255 })).map(([f, x]): Damage => (b) => {
    const c = Buffer.from(b);
    if (c.length > 0) c[Math.floor(f * (c.length - 1))]! ^= x; // a byte flipped
    return c;
  }),
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(...SPECIAL)).map(([f, s]): Damage => (b) => {
    const at = Math.floor(f * b.length);
    return Buffer.concat([b.subarray(0, at), Buffer.from(s), b.subarray(at)]); // NUL, ESC, U+2028, invalid UTF-8, CR...
  }),
  fc.integer({ min: 1, max: 20000 }).map((depth): Damage => (b) => {
    const s = b.toString('latin1');
    const nested = '['.repeat(depth) + ']'.repeat(depth);
    return Buffer.from(s.includes('"columns":{') ? s.replace('"columns":{', `"columns":{"deep":${nested},`) : `{"deep":${nested}}`, 'latin1');
  }),
  fc.integer({ min: 300, max: 5000 }).map((digits): Damage => (b) => Buffer.from(b.toString('latin1').replace(/"epoch":\d+/, `"epoch":${'9'.repeat(digits)}e99999`), 'latin1')),
  fc.constantFrom('"name":"dup",', '"__proto__":{"polluted":1},', '"columns":{},', '"snapshot":[{"x":1}],', '"diffResults":{"added":5},', '"kind":"x",').map((m): Damage => (b) => {
    const at = b.indexOf(0x7b);
    return at < 0 ? b : Buffer.concat([b.subarray(0, at + 1), Buffer.from(m), b.subarray(at + 1)]); // duplicate and hostile keys
  }),
  fc.nat(3).map((n): Damage => (b) => Buffer.concat(Array.from({ length: n + 2 }, () => b))), // glued {}{}
);
/** A mixture with some of its lines damaged; endings may become CR alone. */
const hostile = fc
  .tuple(fc.array(fc.tuple(anyLine, fc.option(damage, { freq: 2 }), fc.constantFrom('\n', '\r\n', '\r', '\n\n')), { minLength: 1, maxLength: 10 }), fc.boolean())
  .map(([ls, endLast]) =>
    Buffer.concat(
      ls.map(([l, d, e], i) => {
        const b = d === null ? Buffer.from(l.text) : d(Buffer.from(l.text));
        return i === ls.length - 1 && !endLast ? b : Buffer.concat([b, Buffer.from(e)]);
      }),
    ),
  );

// ---- running ------------------------------------------------------------------------------

/** The converter over `chunks`, as the suite's other tests run it. */
const run = (chunks: Buffer[], opts: Partial<ConvertOptions> = {}): { out: Buffer; stats: Stats; reports: string } => {
  const r = convert(chunks, opts, 'fuzz.log');
  return { out: r.bytes, stats: r.stats, reports: r.reports };
};

/**
 * Lines in `bytes` as oqfwd counts them: each `\n` ends one and a last line may lack it; in a
 * line that is not JSON, a CR that a glog record or header follows ends one too (a status file
 * whose lines end in CR alone, as the man page says).
 */
function lineCount(bytes: Buffer): number {
  const lines = bytes.toString('latin1').split('\n');
  if (lines.at(-1) === '') lines.pop();
  let n = 0;
  for (let l of lines) {
    n++;
    if (l.endsWith('\r')) l = l.slice(0, -1);
    if (/^[ \t]*(\{|$)/.test(l)) continue;
    const cuts: number[] = [];
    for (let cr = l.indexOf('\r'); cr !== -1; ) {
      const next = l.indexOf('\r', cr + 1);
      const end = next === -1 ? l.length : next;
      if (parseGlogLine(l, cr + 1, end) !== null || parseGlogHeader(l.slice(cr + 1, end)) !== null) cuts.push(cr);
      cr = next;
    }
    if (cuts.length > 0) n += cuts.length - (cuts[0] === 0 ? 1 : 0);
  }
  return n;
}

/** `s` with each lone surrogate as U+FFFD (String.prototype.toWellFormed, Node >= 20). */
const wellFormedText = (s: string): string => (s as string & { toWellFormed(): string }).toWellFormed();

/** Sets `o[k]` as an own data property, so that a `__proto__` key is data, as JSON.parse makes it. */
const put = (o: Record<string, unknown>, k: string, v: unknown): void => {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
};

/** What a JSON reader sees in a line: parsed, with lone surrogates as U+FFFD (the documented rule). */
function wellFormed(v: unknown): unknown {
  if (typeof v === 'string') return wellFormedText(v);
  if (Array.isArray(v)) return v.map(wellFormed);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) put(o, wellFormedText(k), wellFormed(x));
    return o;
  }
  return v;
}
const parse = (s: string): Record<string, unknown> => wellFormed(JSON.parse(s)) as Record<string, unknown>;
/** The input line as oqfwd writes it: integer envelope strings as numbers, `kind` moved aside. */
function expected(line: string, kind: string): Record<string, unknown> {
  const o = parse(line);
  const numeric = kind === 'status' ? ['unixTime', 'severity', 'line'] : ['unixTime', 'epoch', 'counter'];
  for (const k of numeric) if (typeof o[k] === 'string' && /^\d+$/.test(o[k] as string)) o[k] = Number(o[k]);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) put(out, /^_*kind$/.test(k) ? `_${k}` : k, v);
  return out;
}
const withoutKind = (e: Record<string, unknown>): Record<string, unknown> => {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (k !== 'kind') put(o, k, v);
  return o;
};
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Bytes no NDJSON reader can trip on: valid UTF-8, no raw control character, no U+2028/9, DEL or C1. */
function safeBytes(out: Buffer): string | null {
  if (!Buffer.from(out.toString('utf8')).equals(out)) return 'invalid UTF-8';
  const s = out.toString('utf8');
  const bad = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/.exec(s);
  return bad === null ? null : `raw U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${bad.index}`;
}

// ---- properties ---------------------------------------------------------------------------

t.test('valid mixtures: one event per line, values unchanged, counted by kind, whatever the chunking', async (t) => {
  fc.assert(
    fc.property(mixture, cuts, ({ lines, bytes }, sizes) => {
      const r = run(chunked(bytes, sizes));
      const unsafe = safeBytes(r.out);
      if (unsafe !== null) throw new Error(`output: ${unsafe}`);
      const events = r.out.toString('utf8').split('\n').slice(0, -1);
      if (events.length !== lines.length) throw new Error(`${lines.length} lines gave ${events.length} events: ${r.reports}`);
      lines.forEach((l, i) => {
        const e = parse(events[i]!);
        if (e.kind !== l.kind) throw new Error(`line ${i + 1}: kind ${String(e.kind)}, not ${l.kind}`);
        if (l.text.startsWith('{') && !same(withoutKind(e), expected(l.text, l.kind))) throw new Error(`line ${i + 1} changed:\n${l.text}\n${events[i]}`);
      });
      const s = r.stats;
      const count = (k: Line['kind']): number => lines.filter((l) => l.kind === k).length;
      if (s.linesResult !== count('result') || s.linesBatch !== count('batch') || s.linesSnapshot !== count('snapshot') || s.linesStatus !== count('status')) throw new Error(`counted ${JSON.stringify(s)}`);
      if (linesRead(s) !== lines.length || s.events !== lines.length || s.linesUnparsed !== 0 || r.reports !== '') throw new Error(`accounting: ${JSON.stringify(s)} ${r.reports}`);
    }),
    params(),
  );
  t.pass(`${RUNS} mixtures`);
});

t.test('--flatten: one event per row (one with rowCount 0 for none), rows and envelope unchanged', async (t) => {
  fc.assert(
    fc.property(mixture, cuts, ({ lines, bytes }, sizes) => {
      const r = run(chunked(bytes, sizes), { flatten: true });
      const events = r.out.toString('utf8').split('\n').slice(0, -1).map(parse);
      let at = 0;
      let rowEvents = 0;
      for (const [i, l] of lines.entries()) {
        if (l.rows === null) {
          at++;
          continue;
        }
        const env = expected(l.text, l.kind);
        delete env.snapshot;
        delete env.diffResults;
        delete env.action;
        const want = l.rows.length === 0 ? 1 : l.rows.length;
        for (let j = 0; j < want; j++) {
          const e = events[at++];
          if (e === undefined) throw new Error(`line ${i + 1}: only ${j} of ${want} row events`);
          if (e.kind !== (l.kind === 'batch' ? 'result' : 'snapshot') || e.rowCount !== l.rows.length) throw new Error(`line ${i + 1} row ${j}: ${JSON.stringify(e)}`);
          for (const [k, v] of Object.entries(env)) if (!same(e[k], v)) throw new Error(`line ${i + 1} row ${j}: ${k} is ${JSON.stringify(e[k])}, not ${JSON.stringify(v)}`);
          if (l.rows.length > 0) {
            rowEvents++;
            if (e.rowIndex !== j || e.action !== l.rows[j]!.action || !same(e.columns, parse(l.rows[j]!.row))) throw new Error(`line ${i + 1} row ${j}: ${JSON.stringify(e)}`);
          }
        }
      }
      if (at !== events.length) throw new Error(`${events.length - at} events more than the rows`);
      if (r.stats.rowEvents !== rowEvents || r.stats.events !== events.length) throw new Error(`counted ${JSON.stringify(r.stats)}`);
    }),
    params(),
  );
  t.pass(`${RUNS} mixtures flattened`);
});

t.test('damaged input: no crash, every line accounted for, every output line a safe JSON object, chunking changes nothing', async (t) => {
  const KINDS = new Set(['result', 'batch', 'snapshot', 'status', 'unparsed']);
  for (const flatten of [false, true]) {
    fc.assert(
      fc.property(hostile, cuts, (bytes, sizes) => {
        const whole = run([bytes], { flatten });
        const r = run(chunked(bytes, sizes), { flatten });
        if (!r.out.equals(whole.out) || !same(r.stats, whole.stats)) throw new Error('the chunking changed the output');
        const lines = lineCount(bytes);
        if (linesRead(r.stats) !== lines) throw new Error(`${lines} lines read, ${linesRead(r.stats)} counted: ${JSON.stringify(r.stats)}`);
        const unsafe = safeBytes(r.out);
        if (unsafe !== null) throw new Error(`output: ${unsafe}`);
        const text = r.out.toString('utf8');
        if (text !== '' && !text.endsWith('\n')) throw new Error('output does not end with a newline');
        const events = text === '' ? [] : text.slice(0, -1).split('\n');
        if (events.length !== r.stats.events) throw new Error(`${events.length} events written, ${r.stats.events} counted`);
        for (const e of events) {
          const o: unknown = JSON.parse(e);
          if (o === null || typeof o !== 'object' || Array.isArray(o) || !KINDS.has((o as { kind: string }).kind)) throw new Error(`not an event: ${e.slice(0, 200)}`);
        }
        // Reports are one line each, of the input's text escaped.
        for (const rep of r.reports.split('\n').slice(0, -1)) if (!rep.startsWith('oqfwd: ') || /[\u0000-\u001f\u007f-\u009f]/.test(rep)) throw new Error(`report: ${JSON.stringify(rep)}`);
      }),
      params(),
    );
  }
  t.pass(`${RUNS} damaged inputs, twice`);
});

t.test('a line converted from its bytes (a long line) gives what its text gives: events, counts and reports', async (t) => {
  const shaped: Partial<ConvertOptions> = { shape: { ...NO_SHAPING, eventId: 'event_id', timestamp: '@timestamp', fields: [['site', 'x']], actions: new Set(['added', 'snapshot']) } };
  const input = fc.oneof(
    mixture.map((m) => m.bytes),
    hostile,
  );
  fc.assert(
    fc.property(input, cuts, fc.boolean(), fc.boolean(), (bytes, sizes, flatten, shape) => {
      const opts: Partial<ConvertOptions> = { flatten, ...(shape ? shaped : {}) };
      const asText = run([bytes], opts);
      // Every line of one byte or more goes the long way here.
      const asBytes = run(chunked(bytes, sizes), { ...opts, longLine: 1 });
      if (!asBytes.out.equals(asText.out)) throw new Error(`output differs:\n${asText.out.toString()}\n${asBytes.out.toString()}`);
      if (!same(asBytes.stats, asText.stats) || asBytes.reports !== asText.reports) throw new Error(`accounting differs: ${JSON.stringify(asText.stats)} ${JSON.stringify(asBytes.stats)}\n${asText.reports}${asBytes.reports}`);
    }),
    params(),
  );
  t.pass(`${RUNS} inputs both ways`);
});

t.test('through the binary: damaged input on stdin, exit 0, --stats=json accounts for every line, stderr escaped', async (t) => {
  const runs = Math.max(4, Math.ceil(RUNS / 20));
  await fc.assert(
    fc.asyncProperty(hostile, async (bytes) => {
      const child = tracked(spawn(process.execPath, [BIN, '--stats=json', '--flatten'], { stdio: ['pipe', 'pipe', 'pipe'] }));
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      const code = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      child.stdin.end(bytes);
      const status = await code;
      const stderr = Buffer.concat(err).toString('utf8').split('\n').slice(0, -1);
      if (status !== 0) throw new Error(`exit ${status}: ${stderr.join(' | ')}`);
      const stats = JSON.parse(stderr.at(-1)!) as { lines: number; events: number };
      const written = Buffer.concat(out).toString('utf8').split('\n').length - 1;
      if (stats.lines !== lineCount(bytes) || stats.events !== written) throw new Error(`stats ${stderr.at(-1)} for ${lineCount(bytes)} lines, ${written} events`);
      for (const l of stderr.slice(0, -1)) if (!l.startsWith('oqfwd: ') || /[\u0000-\u001f\u007f-\u009f]/.test(l)) throw new Error(`stderr: ${JSON.stringify(l)}`);
    }),
    params(runs),
  );
  t.pass(`${runs} runs of the binary`);
});
