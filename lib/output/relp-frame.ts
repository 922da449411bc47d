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

/** Splits the server's byte stream into frames, across any chunk boundaries. */
export class FrameReader {
  private rest: Buffer = Buffer.alloc(0);

  /** The complete frames in what has arrived so far; throws RelpProtocolError on bad framing. */
  push(data: Buffer): Frame[] {
    let buf = this.rest.length === 0 ? data : Buffer.concat([this.rest, data]);
    const frames: Frame[] = [];
    for (;;) {
      const f = parseFrame(buf);
      if (f === null) break;
      frames.push(f.frame);
      buf = buf.subarray(f.length);
    }
    if (buf.length > MAX_RESPONSE + 64) throw new RelpProtocolError('a response frame longer than 1 MiB');
    this.rest = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    return frames;
  }
}

function digits(buf: Buffer, from: number, max: number, what: string): { value: number; end: number } | null {
  let v = 0;
  let i = from;
  for (; i < buf.length && buf[i]! >= 0x30 && buf[i]! <= 0x39; i++) {
    if (i - from === max) throw new RelpProtocolError(`${what} longer than ${max} digits`);
    v = v * 10 + buf[i]! - 0x30;
  }
  if (i === buf.length) return null;
  if (i === from) throw new RelpProtocolError(`no ${what}`);
  return { value: v, end: i };
}

function parseFrame(buf: Buffer): { frame: Frame; length: number } | null {
  if (buf.length === 0) return null;
  const txnr = digits(buf, 0, 9, 'transaction number');
  if (txnr === null) return null;
  if (buf[txnr.end] !== SP) throw new RelpProtocolError('bad frame header');
  let i = txnr.end + 1;
  const cmdStart = i;
  while (i < buf.length && buf[i] !== SP && i - cmdStart <= 32) i++;
  if (i === buf.length) return null;
  if (buf[i] !== SP || i === cmdStart) throw new RelpProtocolError('bad frame command');
  const command = buf.toString('latin1', cmdStart, i);
  const len = digits(buf, i + 1, 9, 'data length');
  if (len === null) return null;
  if (len.value > MAX_RESPONSE) throw new RelpProtocolError(`a ${len.value}-byte frame from the server`);
  let dataStart = len.end;
  if (len.value > 0) {
    if (buf[len.end] !== SP) throw new RelpProtocolError('bad frame header');
    dataStart++;
  }
  const end = dataStart + len.value;
  if (buf.length <= end) return null;
  if (buf[end] !== LF) throw new RelpProtocolError('a frame without its trailer');
  return { frame: { txnr: txnr.value, command, data: buf.subarray(dataStart, end) }, length: end + 1 };
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

/**
 * `syslog` frames for the events of `src` from `from` to `to` (each line without its LF
 * becomes the message after `prefix`), numbered from `txnr`. Returns the frames in one
 * buffer, with where each message starts and ends in it (for sending it again later).
 */
export function syslogFrames(src: Buffer, lineStarts: number[], lineEnds: number[], prefix: Buffer, txnr: number): { buf: Buffer; msgStart: Int32Array; msgEnd: Int32Array } {
  const n = lineStarts.length;
  let size = 0;
  for (let k = 0; k < n; k++) size += lineEnds[k]! - lineStarts[k]! + prefix.length + 32;
  const buf = Buffer.allocUnsafe(size);
  const msgStart = new Int32Array(n);
  const msgEnd = new Int32Array(n);
  let at = 0;
  for (let k = 0; k < n; k++) {
    const len = lineEnds[k]! - lineStarts[k]! + prefix.length;
    at += buf.write(`${txnr + k} syslog ${len} `, at, 'latin1');
    msgStart[k] = at;
    at += prefix.copy(buf, at);
    at += src.copy(buf, at, lineStarts[k]!, lineEnds[k]!);
    msgEnd[k] = at;
    buf[at++] = LF;
  }
  return { buf: buf.subarray(0, at), msgStart, msgEnd };
}
