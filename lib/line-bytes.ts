import type { JsonText, TextSink } from './json-raw.js';

// Buffer#latin1Slice is in every Node release though not in the documentation: it is what
// toString('latin1', a, b) calls after looking the encoding up (see output-buffer.ts).
type Latin1Slicer = Buffer & { latin1Slice(start: number, end: number): string };

const EMPTY = Buffer.alloc(0) as Latin1Slicer;

/** How far indexOf looks byte by byte before it calls Buffer#indexOf. */
const NEAR = 64;

/** Bytes made into a string at a time when a long line is searched with a regular expression. */
const WINDOW = 64 * 1024;

/**
 * A long line held as the pieces it was read in (UTF-8, valid), read as JSON text: what a
 * binary string (see lines.ts) gives, one character per byte, without the string. A line of
 * tens of megabytes is then in memory once, as read, instead of as read, joined and decoded;
 * the parts of it that are read as text (keys, envelope values, rows) become strings of
 * their own, one at a time, and what goes out as it is goes as the pieces themselves.
 */
export class LineBytes implements JsonText {
  length: number;
  private readonly parts: Latin1Slicer[];
  /** Where each part starts in the line; the line's length last. */
  private readonly starts: number[];
  /** The part read last, and where it lies: most reads are near the one before. */
  private k = 0;
  private cur: Latin1Slicer;
  private lo = 0;
  private hi: number;

  /** @param parts the line's bytes in order, none of them empty */
  constructor(parts: Buffer[]) {
    this.parts = parts as Latin1Slicer[];
    this.starts = [0];
    for (const p of parts) this.starts.push(this.starts[this.starts.length - 1]! + p.length);
    this.length = this.starts[parts.length]!;
    this.cur = this.parts[0] ?? EMPTY;
    this.hi = this.cur.length;
  }

  charCodeAt(i: number): number {
    if (i >= this.lo && i < this.hi) return this.cur[i - this.lo]!;
    return this.seek(i) ? this.cur[i - this.lo]! : NaN;
  }

  /** Makes the part that holds offset `i` the current one; false when `i` is outside the line. */
  private seek(i: number): boolean {
    if (!(i >= 0 && i < this.length)) return false;
    const starts = this.starts;
    let a = 0;
    let b = this.parts.length - 1;
    while (a < b) {
      const m = (a + b + 1) >> 1;
      if (starts[m]! <= i) a = m;
      else b = m - 1;
    }
    this.k = a;
    this.cur = this.parts[a]!;
    this.lo = starts[a]!;
    this.hi = starts[a + 1]!;
    return true;
  }

  indexOf(search: string, from = 0): number {
    from = Math.max(0, from);
    if (from >= this.length) return search === '' ? this.length : -1;
    if (search.length !== 1) {
      for (let at = from; ; at++) {
        at = this.indexOf(search.charAt(0), at);
        if (at === -1 || this.startsWith(search, at)) return at;
      }
    }
    // JSON looks for the next quote or backslash, most often a few bytes on: a loop here is
    // several times cheaper than a call to Buffer#indexOf, which is faster only far off.
    const c = search.charCodeAt(0);
    const near = Math.min(this.length, from + NEAR);
    for (let i = from; i < near; i++) if (this.charCodeAt(i) === c) return i;
    if (!this.seek(near)) return -1;
    for (let k = this.k, local = near - this.lo; k < this.parts.length; k++, local = 0) {
      const j = this.parts[k]!.indexOf(c, local);
      if (j !== -1) return this.starts[k]! + j;
    }
    return -1;
  }

  startsWith(search: string, at = 0): boolean {
    if (at < 0 || at + search.length > this.length) return false;
    for (let i = 0; i < search.length; i++) if (this.charCodeAt(at + i) !== search.charCodeAt(i)) return false;
    return true;
  }

  /** `[start, end)` as a binary string (indexes as String#slice takes them, never negative here). */
  slice(start = 0, end = this.length): string {
    start = Math.min(Math.max(start, 0), this.length);
    end = Math.min(Math.max(end, start), this.length);
    if (start === end) return '';
    if (!(start >= this.lo && start < this.hi)) this.seek(start);
    if (end <= this.hi) return this.cur.latin1Slice(start - this.lo, end - this.lo);
    const pieces: string[] = [];
    this.each(start, end, (p, a, b) => void pieces.push(p.latin1Slice(a, b)));
    return pieces.join('');
  }

  /**
   * The whole line as one binary string, for what is read as text after all; the pieces are
   * let go (joined once, they are not needed), and this is empty afterwards.
   */
  release(): string {
    const line = this.parts.length === 1 ? this.parts[0]!.latin1Slice(0, this.length) : (Buffer.concat(this.parts) as Latin1Slicer).latin1Slice(0, this.length);
    this.parts.length = 0;
    this.starts.length = 1;
    this.length = 0;
    this.cur = EMPTY;
    this.lo = 0;
    this.hi = 0;
    return line;
  }

  /** Appends `[start, end)` to `out` as the bytes themselves (see TextSink.keep). */
  keepInto(out: TextSink, start: number, end: number): void {
    for (const b of this.pieces(start, end)) out.keep(b);
  }

  /** `[start, end)` as the bytes themselves, in the pieces that hold them. */
  pieces(start: number, end: number): Buffer[] {
    const out: Buffer[] = [];
    this.each(start, end, (p, a, b) => void out.push(a === 0 && b === p.length ? p : p.subarray(a, b)));
    return out;
  }

  /** Calls `f` on each part's share of `[start, end)`, in order. */
  private each(start: number, end: number, f: (part: Latin1Slicer, from: number, to: number) => void): void {
    if (start >= end || !this.seek(start)) return;
    for (let k = this.k; k < this.parts.length && this.starts[k]! < end; k++) {
      const base = this.starts[k]!;
      f(this.parts[k]!, Math.max(start - base, 0), Math.min(end - base, this.parts[k]!.length));
    }
  }

  /**
   * Where the first match of `re` (flag `g`) at or after `from` starts, or -1; no match may
   * be longer than `longest` characters. The bytes are searched a window at a time, each
   * window reaching `longest - 1` into the next, so that no match is cut in two.
   */
  find(re: RegExp, from: number, longest: number): number {
    for (let at = Math.max(0, from); at < this.length; at += WINDOW) {
      re.lastIndex = 0;
      const m = re.exec(this.slice(at, at + WINDOW + longest - 1));
      if (m !== null && m.index < WINDOW) return at + m.index;
    }
    return -1;
  }
}
