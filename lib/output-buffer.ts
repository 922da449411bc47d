/**
 * Where the converter writes events: bytes straight into a Buffer. Building one long
 * string and encoding it at the end costs ten times more (the string is a rope that must be
 * flattened, then copied again); a binary string (see lines.ts) is written with one copy.
 */
const EMPTY = Buffer.alloc(0);

/** A buffer grown past this (by a huge line) is given back after use; smaller ones are kept. */
const SHRINK_ABOVE = 8 * 1024 * 1024;

export class OutputBuffer {
  private buf: Buffer;
  private pos = 0;

  /** @param size each buffer's first size in bytes; it doubles as needed. Default 256 KiB. */
  constructor(private readonly size = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Appends a binary string. */
  write(s: string): void {
    if (this.pos + s.length > this.buf.length) this.grow(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** What was written, handed over: this buffer is not touched again. */
  take(): Buffer {
    if (this.pos === 0) return EMPTY;
    const out = this.buf.subarray(0, this.pos);
    // The next buffer is as big as this one was, so a steady stream does not grow it again
    // every time; one grown by a huge line is given back.
    this.buf = Buffer.allocUnsafe(this.buf.length > SHRINK_ABOVE ? this.size : this.buf.length);
    this.pos = 0;
    return out;
  }

  private grow(need: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + need));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}
