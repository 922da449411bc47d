/**
 * Where the converter writes events: bytes straight into a Buffer. Building one long
 * string and encoding it at the end costs ten times more (the string is a rope that must be
 * flattened, then copied again); a binary string (see lines.ts) is written with one copy.
 */
const EMPTY = Buffer.alloc(0);

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

  /**
   * What was written, as a buffer of its own, exactly that long: a consumer that keeps it (a
   * TCP sink's replay window) must not keep a mostly empty 256 KiB block alive with it.
   */
  take(): Buffer {
    if (this.pos === 0) return EMPTY;
    const out = Buffer.allocUnsafeSlow(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    if (this.buf.length > this.size) this.buf = Buffer.allocUnsafe(this.size); // shrink after a burst
    return out;
  }

  private grow(need: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + need));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}
