// RELP framing (librelp's doc/relp.md): `TXNR SP COMMAND SP DATALEN [SP DATA] LF`, the
// transaction number 1..999,999,999, at most 9 digits in it (librelp rejects a tenth).

/** The highest transaction number a frame may carry. */
export const MAX_TXNR = 999_999_999;

/** A frame received from the server. */
export interface Frame {
  txnr: number;
  command: string;
  data: Buffer;
}

/** The server broke the framing: the session cannot go on. */
export class RelpProtocolError extends Error {}

/** Responses carry a status line and, for `open`, offers: none is near this. */
const MAX_RESPONSE = 1024 * 1024;

const SP = 0x20;
const LF = 0x0a;

/**
 * Called for each frame the server sent: its data is `buf[start, end)`, valid during the
 * call only. `rsp` is always the same constant string: no string is made per acknowledgement.
 */
export type FrameVisitor = (txnr: number, command: string, buf: Buffer, start: number, end: number) => void;

/** Splits the server's byte stream into frames, across any chunk boundaries. */
export class FrameReader {
  private rest: Buffer = Buffer.alloc(0);
  // Where the frame parsed last lies: fields, not an object per frame (one a frame adds
  // up at a hundred thousand acknowledgements a second).
  private txnr = 0;
  private command = '';
  private dataStart = 0;
  private dataEnd = 0;
  private scanned = 0;

  /** Calls `visit` for each complete frame; throws RelpProtocolError on bad framing. */
  feed(data: Buffer, visit: FrameVisitor): void {
    const buf = this.rest.length === 0 ? data : Buffer.concat([this.rest, data]);
    let at = 0;
    for (let next = this.parse(buf, at); next !== -1; next = this.parse(buf, at)) {
      visit(this.txnr, this.command, buf, this.dataStart, this.dataEnd);
      at = next;
    }
    if (buf.length - at > MAX_RESPONSE + 64) throw new RelpProtocolError('a response frame longer than 1 MiB');
    this.rest = at === buf.length ? EMPTY : Buffer.from(buf.subarray(at));
  }

  /** The complete frames in what has arrived so far, as objects (for servers in tests). */
  push(data: Buffer): Frame[] {
    const frames: Frame[] = [];
    this.feed(data, (txnr, command, buf, start, end) => frames.push({ txnr, command, data: Buffer.from(buf.subarray(start, end)) }));
    return frames;
  }

  /** Parses the frame at `from`: where the next one starts, or -1 while it is incomplete. */
  private parse(buf: Buffer, from: number): number {
    if (from === buf.length) return -1;
    const txnrEnd = this.digits(buf, from, 9, 'transaction number');
    if (txnrEnd === -1) return -1;
    const txnr = this.scanned;
    if (buf[txnrEnd] !== SP) throw new RelpProtocolError('bad frame header');
    const cmdStart = txnrEnd + 1;
    let i = cmdStart;
    while (i < buf.length && buf[i] !== SP && i - cmdStart <= 32) i++;
    if (i === buf.length) return -1;
    if (buf[i] !== SP || i === cmdStart) throw new RelpProtocolError('bad frame command');
    const lenEnd = this.digits(buf, i + 1, 9, 'data length');
    if (lenEnd === -1) return -1;
    const len = this.scanned;
    if (len > MAX_RESPONSE) throw new RelpProtocolError(`a ${len}-byte frame from the server`);
    let dataStart = lenEnd;
    if (len > 0) {
      if (buf[lenEnd] !== SP) throw new RelpProtocolError('bad frame header');
      dataStart++;
    }
    const end = dataStart + len;
    if (buf.length <= end) return -1;
    if (buf[end] !== LF) throw new RelpProtocolError('a frame without its trailer');
    this.txnr = txnr;
    this.command = isRsp(buf, cmdStart, i) ? 'rsp' : buf.toString('latin1', cmdStart, i);
    this.dataStart = dataStart;
    this.dataEnd = end;
    return end + 1;
  }

  /** Where the digits from `from` end (at most `max` of them, their value in `scanned`), or -1 if the buffer ends first. */
  private digits(buf: Buffer, from: number, max: number, what: string): number {
    let v = 0;
    let i = from;
    for (; i < buf.length && buf[i]! >= 0x30 && buf[i]! <= 0x39; i++) {
      if (i - from === max) throw new RelpProtocolError(`${what} longer than ${max} digits`);
      v = v * 10 + buf[i]! - 0x30;
    }
    if (i === buf.length) return -1;
    if (i === from) throw new RelpProtocolError(`no ${what}`);
    this.scanned = v;
    return i;
  }
}

const EMPTY = Buffer.alloc(0);

function isRsp(buf: Buffer, from: number, to: number): boolean {
  return to - from === 3 && buf[from] === 0x72 && buf[from + 1] === 0x73 && buf[from + 2] === 0x70;
}

/** The status code at the start of a response's data (200 is success), 0 if there is none. */
export function statusCode(buf: Buffer, start: number, end: number): number {
  if (end - start < 3) return 0;
  let code = 0;
  for (let i = start; i < start + 3; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) return 0;
    code = code * 10 + c - 0x30;
  }
  return code;
}

/** A whole frame with a short data part (open, close). */
export function frame(txnr: number, command: string, data: string): Buffer {
  const bytes = Buffer.from(data, 'utf8');
  const head = `${txnr} ${command} ${bytes.length}${bytes.length > 0 ? ' ' : ''}`;
  return Buffer.concat([Buffer.from(head, 'latin1'), bytes, Buffer.from('\n')]);
}

/** A response's status code (200 is success) and the rest of its first line. */
export function responseStatus(data: Buffer): { code: number; text: string; offers: string } {
  const s = data.toString('utf8');
  const nl = s.indexOf('\n');
  const first = nl === -1 ? s : s.slice(0, nl);
  const code = /^\d{3}/.test(first) ? Number(first.slice(0, 3)) : 0;
  return { code, text: first, offers: nl === -1 ? '' : s.slice(nl + 1) };
}

/** Bytes of a `syslog` frame besides its message, at most: "TXNR syslog LEN " and the LF. */
export const FRAME_OVERHEAD = 9 + 8 + 10 + 1 + 1;

const SYSLOG = Buffer.from(' syslog ', 'latin1');

/** Writes `n` (below 10^10) in decimal at `at`; returns the end. */
function writeDecimal(buf: Buffer, at: number, n: number): number {
  let width = 1;
  for (let p = 10; n >= p; p *= 10) width++;
  for (let i = at + width - 1; i >= at; i--) {
    buf[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return at + width;
}

/**
 * Writes into `out` from `at` one `syslog` frame for each k in [from, to): the message is
 * `prefix` + `src[starts[k], ends[k])`, numbered from `txnr` on. Records where each message
 * starts and ends in `out` in msgStart/msgEnd from index 0 (for sending it again later).
 * `out` needs room for every message and {@link FRAME_OVERHEAD} more each. Returns the end.
 */
export function writeSyslogFrames(
  out: Buffer,
  at: number,
  src: Buffer,
  starts: ArrayLike<number>,
  ends: ArrayLike<number>,
  from: number,
  to: number,
  prefix: Buffer,
  txnr: number,
  msgStart: Int32Array,
  msgEnd: Int32Array,
): number {
  for (let k = from; k < to; k++) {
    const s = starts[k]!;
    const e = ends[k]!;
    at = writeDecimal(out, at, txnr + k - from);
    at += SYSLOG.copy(out, at);
    at = writeDecimal(out, at, e - s + prefix.length);
    out[at++] = SP;
    msgStart[k - from] = at;
    at += prefix.copy(out, at);
    at += src.copy(out, at, s, e);
    msgEnd[k - from] = at;
    out[at++] = LF;
  }
  return at;
}

/**
 * `syslog` frames for the events of `src` from `lineStarts` to `lineEnds` (see
 * {@link writeSyslogFrames}) in a buffer of their own, with where each message lies in it.
 */
export function syslogFrames(src: Buffer, lineStarts: ArrayLike<number>, lineEnds: ArrayLike<number>, prefix: Buffer, txnr: number): { buf: Buffer; msgStart: Int32Array; msgEnd: Int32Array } {
  const n = lineStarts.length;
  let size = 0;
  for (let k = 0; k < n; k++) size += lineEnds[k]! - lineStarts[k]! + prefix.length + FRAME_OVERHEAD;
  const buf = Buffer.allocUnsafe(size);
  const msgStart = new Int32Array(n);
  const msgEnd = new Int32Array(n);
  const end = writeSyslogFrames(buf, 0, src, lineStarts, lineEnds, 0, n, prefix, txnr, msgStart, msgEnd);
  return { buf: buf.subarray(0, end), msgStart, msgEnd };
}
