/**
 * Where the converter writes events: bytes straight into a Buffer. Building one long
 * string and encoding it at the end costs ten times more (the string is a rope that must be
 * flattened, then copied again); a binary string (see lines.ts) is written with one copy.
 * Events made of many small parts (status events) are written part by part: constant parts
 * as prepared bytes, numbers as digits, never concatenated into a string first.
 */

/** A buffer grown past this (by a huge line) is given back after use; smaller ones are kept. */
const SHRINK_ABOVE = 8 * 1024 * 1024;

// Buffer#latin1Write is in every Node release though not in the documentation: it is what
// write(s, pos, 'latin1') calls after checking its arguments and looking the encoding up,
// which costs as much again on a short string (measured: 950k lines in 51 ms against 110 ms).
type Latin1Writer = Buffer & { latin1Write(s: string, offset: number): number };

const ZERO = 48;

// Below this length a string is copied character by character: a call into C++ costs about
// 45 ns whatever the length, the loop about 3 ns a character (measured on Node 20).
const SHORT = 16;

/** "00" to "99" as bytes. */
const PAIRS = Uint8Array.from({ length: 200 }, (_, i) => ZERO + (i % 2 === 0 ? Math.floor(i / 20) : (i >> 1) % 10));

/** Decimal digits of a non-negative safe integer. */
function digitCount(n: number): number {
  let width = 1;
  for (let p = 10; n >= p && width < 16; p *= 10) width++;
  return width;
}

export class OutputBuffer {
  private buf: Latin1Writer;
  private pos = 0;
  /** The memory of buffers handed out by take() and not recycled yet, with how many pieces of it are out. */
  private readonly handedOut = new WeakMap<ArrayBufferLike, number>();
  /** Recycled buffers, ready to be written over. */
  private readonly spares: Latin1Writer[] = [];
  /** What was written before the current buffer, in order: filled buffers and kept ones. */
  private queue: Buffer[] = [];
  /** Bytes in {@link queue}. */
  private queued = 0;

  /** @param size each buffer's first size in bytes; it doubles as needed. Default 256 KiB. */
  constructor(private readonly size = 256 * 1024) {
    this.buf = allocate(size);
  }

  /** Appends a binary string. */
  write(s: string): void {
    const n = s.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    if (n < SHORT) {
      const buf = this.buf;
      const p = this.pos;
      for (let i = 0; i < n; i++) buf[p + i] = s.charCodeAt(i);
      this.pos = p + n;
    } else {
      this.pos += this.buf.latin1Write(s, this.pos);
    }
  }

  /** Appends prepared bytes (copying a short Uint8Array costs a fraction of writing a string). */
  bytes(b: Uint8Array): void {
    if (this.pos + b.length > this.buf.length) this.grow(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Appends one byte. */
  byte(c: number): void {
    if (this.pos === this.buf.length) this.grow(1);
    this.buf[this.pos++] = c;
  }

  /** Appends an integer in decimal, as JSON writes it. */
  int(n: number): void {
    if (!Number.isSafeInteger(n)) {
      this.write(String(n));
      return;
    }
    if (this.pos + 17 > this.buf.length) this.grow(17);
    if (n < 0) {
      this.buf[this.pos++] = 45; // '-'
      n = -n;
    }
    this.digits(n, digitCount(n));
  }

  /** Appends the non-negative integer `n` as exactly `width` digits, zero-padded on the left. */
  digits(n: number, width: number): void {
    if (this.pos + width > this.buf.length) this.grow(width);
    const buf = this.buf;
    const start = this.pos;
    let i = start + width;
    this.pos = i;
    // Two digits a step: a status event carries two numbers of up to ten digits.
    while (i - start >= 2) {
      const q = Math.floor(n / 100);
      const r = (n - q * 100) * 2;
      buf[--i] = PAIRS[r + 1]!;
      buf[--i] = PAIRS[r]!;
      n = q;
    }
    if (i > start) buf[--i] = ZERO + (n % 10);
  }

  /** Appends `HH:MM:SS` for a second of the day (0 to 86399). */
  clock(sec: number): void {
    if (this.pos + 8 > this.buf.length) this.grow(8);
    const buf = this.buf;
    const p = this.pos;
    const h = Math.floor(sec / 3600);
    const m = Math.floor(sec / 60) % 60;
    const s = sec % 60;
    buf[p] = ZERO + Math.floor(h / 10);
    buf[p + 1] = ZERO + (h % 10);
    buf[p + 2] = 58;
    buf[p + 3] = ZERO + Math.floor(m / 10);
    buf[p + 4] = ZERO + (m % 10);
    buf[p + 5] = 58;
    buf[p + 6] = ZERO + Math.floor(s / 10);
    buf[p + 7] = ZERO + (s % 10);
    this.pos = p + 8;
  }

  /** Bytes written so far (kept ones too) and not taken. */
  get length(): number {
    return this.queued + this.pos;
  }

  /**
   * Appends `b`, which nobody writes over again (a long line's bytes, see line-bytes.ts): a
   * large one is handed on as it is, by {@link take}, rather than copied.
   */
  keep(b: Buffer): void {
    if (b.length < KEEP_ABOVE) {
      this.bytes(b);
      return;
    }
    this.close();
    this.queue.push(b);
    this.queued += b.length;
  }

  /**
   * What was written, handed over in order, most often as one buffer: these buffers are not
   * touched again, unless they come back through {@link recycle}.
   */
  take(): Buffer[] {
    this.close();
    const out = this.queue;
    this.queue = [];
    this.queued = 0;
    return out;
  }

  /** Moves what the current buffer holds to the queue, and goes on in another buffer. */
  private close(next?: Latin1Writer): void {
    if (this.pos === 0) return;
    const out = this.buf.subarray(0, this.pos);
    this.handedOut.set(this.buf.buffer, 1);
    if (next === undefined) {
      // The next buffer is as big as this one was, so a steady stream does not grow it again
      // every time; one grown by a huge line is given back.
      const size = this.buf.length > SHRINK_ABOVE ? this.size : this.buf.length;
      const spare = this.spares.pop();
      next = spare !== undefined && spare.length >= size ? spare : allocate(size);
    }
    this.buf = next;
    this.pos = 0;
    this.queue.push(out);
    this.queued += out.length;
  }

  /**
   * Gives back a buffer from {@link take} that nobody will read again (its write completed
   * and nothing else holds it), to be written over. Fresh memory costs: each new buffer of
   * this size is mapped from the kernel page by page, and reusing one measured 11% faster
   * on status logs. Anything not handed out by this OutputBuffer, or given back twice, is
   * ignored.
   */
  recycle(b: Buffer): void {
    const memory = b.buffer;
    const out = this.handedOut.get(memory);
    if (out === undefined) return;
    if (out > 1) {
      this.handedOut.set(memory, out - 1);
      return;
    }
    this.handedOut.delete(memory);
    if (this.spares.length < MAX_SPARES && memory.byteLength <= SHRINK_ABOVE) this.spares.push(Buffer.from(memory) as Latin1Writer);
  }

  /**
   * `taken`, from one take(), cut at `ends` (offsets into it all, ascending): the buffers
   * before the first end, those between it and the next, and so on, and those after the
   * last. Each piece is given back on its own, and memory is written over once every piece
   * of it was.
   */
  pieces(taken: Buffer[], ends: number[]): Buffer[][] {
    const groups: Buffer[][] = [[]];
    let g = 0;
    let base = 0;
    for (const b of taken) {
      let at = 0;
      let cuts = 0;
      while (at < b.length) {
        while (g < ends.length && ends[g]! <= base + at) groups[++g] = [];
        const end = g < ends.length ? Math.min(b.length, ends[g]! - base) : b.length;
        groups[g]!.push(b.subarray(at, end));
        cuts++;
        at = end;
      }
      const n = this.handedOut.get(b.buffer);
      if (n !== undefined && cuts > 1) this.handedOut.set(b.buffer, n + cuts - 1);
      base += b.length;
    }
    while (g < ends.length) groups[++g] = [];
    return groups;
  }

  private grow(need: number): void {
    const want = this.pos + need;
    if (want > SHRINK_ABOVE && this.pos > 0) {
      // A huge event: what is written goes as it is, the rest into buffers of their own,
      // rather than all of it copied into a bigger buffer again and again (each copy left
      // to the collector). Those are not kept for reuse (see close and recycle).
      this.close(allocate(Math.max(need + GROW_AHEAD_MIN, SHRINK_ABOVE + 1)));
      return;
    }
    // Doubling, but a huge line gets what it needs plus a little (its newline must not
    // double it again), and never more than GROW_AHEAD_MAX past that.
    const bigger = allocate(Math.max(want + GROW_AHEAD_MIN, Math.min(this.buf.length * 2, want + GROW_AHEAD_MAX)));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}

/** Room a growing buffer keeps past what it was asked for: at least this much… */
const GROW_AHEAD_MIN = 64 * 1024;
/** …and at most this much, so a huge line does not take twice its size. */
const GROW_AHEAD_MAX = 8 * 1024 * 1024;

/** Kept bytes shorter than this are copied: handing them on as they are saves little. */
const KEEP_ABOVE = 64 * 1024;

/** Buffers recycled and not yet used again: one in flight and one being filled need no more. */
const MAX_SPARES = 2;

/** A buffer of its own memory (never a slice of Node's shared pool), so it can be recycled. */
function allocate(size: number): Latin1Writer {
  return Buffer.allocUnsafeSlow(size) as Latin1Writer;
}
