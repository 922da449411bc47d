import { VERSION } from '../version.js';
import { ConnectError, STABLE_MS } from './connect.js';
import { ConnectedSink, type SinkOptions } from './delivery.js';
import { frame, FRAME_OVERHEAD, FrameReader, MAX_TXNR, RelpProtocolError, responseStatus, statusCode, syslogFrames, writeSyslogFrames, type Frame } from './relp-frame.js';
import { Wire } from './wire.js';

/** How a RELP sink connects, and how much it leaves unacknowledged. */
export interface RelpSinkOptions extends SinkOptions {
  /** Frames sent and not acknowledged, at most. Default {@link DEFAULT_RELP_WINDOW}. */
  window: number;
  /** Bytes of frames sent and not acknowledged, at most (one frame always goes). Default 16 MiB. */
  windowBytes: number;
  /** HOSTNAME of the syslog header each event travels in. */
  host: string;
  /** The highest transaction number used before the session is renewed. Default {@link MAX_TXNR}; tests lower it. */
  maxTxnr?: number;
}

/** Default --relp-window: librelp's is 128; more keeps a fast receiver busy across a round trip. */
export const DEFAULT_RELP_WINDOW = 1024;

/** How long the `close` at the end may wait for its response: nothing is lost if it never comes. */
const CLOSE_WAIT_MS = 5000;

/** Frame buffers kept for reuse: as many as a full window spans, about. */
const SPARES = 4;

/** Frame buffers are at least this big, so that most fit any later batch. */
const MIN_FRAME_BUFFER = 512 * 1024;

/** Bigger frame buffers (a huge event's) are given back after use, not kept. */
const MAX_SPARE = 4 * 1024 * 1024;

/** Frames of one write, numbered from `firstTxnr`, of which the first `acked` were acknowledged. */
interface Batch {
  buf: Buffer;
  /** The memory `buf` lies in, to reuse once every frame is acknowledged; null for none. */
  memory: Buffer | null;
  msgStart: Int32Array;
  msgEnd: Int32Array;
  firstTxnr: number;
  acked: number;
}

/**
 * The syslog header in front of each event: RFC 5424 with no time stamp (the receiver's
 * reception time; the event carries its own), so that rsyslog's `%msg%`, NXLog's
 * parse_syslog() and syslog-ng's default parser find the JSON event alone as the message.
 */
export function syslogPrefix(host: string): Buffer {
  const name = host.replace(/[^\x21-\x7e]/g, '_').slice(0, 255) || '-';
  return Buffer.from(`<14>1 - ${name} oqfwd - - - `, 'latin1');
}

/**
 * Events to a RELP receiver (rsyslog's imrelp, NXLog's im_relp, …), each one `syslog` frame,
 * with a bounded window of frames not yet acknowledged. An event counts as delivered when
 * its `rsp 200` arrives. When the session breaks (reset, error, `serverclose`, a refusal, no
 * progress for `stallTimeoutMs`), a new one is opened and every unacknowledged frame is sent
 * again: the receiver may get those twice, never none. At the end, the sink waits for every
 * acknowledgement, then closes the session.
 */
export class RelpSink extends ConnectedSink {
  readonly acknowledges = true;
  private readonly prefix: Buffer;
  private readonly maxTxnr: number;
  /** The next transaction number of the current session. */
  private txnr = 1;
  /** Frames sent and not acknowledged, oldest first, over every session since. */
  private unacked: Batch[] = [];
  private unackedCount = 0;
  private unackedBytes = 0;
  /** Acknowledgements on the current session. */
  private sessionAcks = 0;
  /** Bytes of the events acknowledged, each with its newline, as they were handed to the sink. */
  private ackedBytes = 0;
  /** The response to an `open` or `close` awaited, by transaction number. */
  private awaited: { txnr: number; frame: Frame | null } | null = null;
  /** The start of an event whose end is in the next chunk. */
  private tail: Buffer | null = null;
  /** Where each event of the chunk being sent starts and ends (its LF), reused from chunk to chunk. */
  private lineStarts = new Int32Array(4096);
  private lineEnds = new Int32Array(4096);
  /** Frame buffers whose frames were all acknowledged: fresh memory costs page faults. */
  private readonly spares: Buffer[] = [];

  constructor(private readonly opts: RelpSinkOptions) {
    super(opts);
    this.prefix = syslogPrefix(opts.host);
    this.maxTxnr = opts.maxTxnr ?? MAX_TXNR;
  }

  unconfirmed(): number {
    return this.unackedCount;
  }

  /** Acknowledged: responses come in order, so these are the first ones. */
  delivered(): number {
    return this.ackedBytes;
  }

  async open(): Promise<void> {
    await this.session();
  }

  /** Waits for `done()` on `wire`, with the stall timeout (or `ms`). */
  private wait(wire: Wire, done: () => boolean, ms = this.opts.stallTimeoutMs): Promise<string | null> {
    return wire.until(done, ms);
  }

  /** The live session, or a new one. */
  private async ready(): Promise<Wire> {
    // A session that broke while nobody waited on it is lost like any other.
    if (this.wire !== null && this.wire.broken !== null) this.lost(this.wire, this.wire.broken);
    return this.wire ?? this.session();
  }

  /** Connects, opens a RELP session, and sends every unacknowledged frame again. */
  private async session(): Promise<Wire> {
    for (;;) {
      const socket = await this.connector.connect();
      const reader = new FrameReader();
      const wire: Wire = new Wire(socket, this.opts.target.tls !== null, (d) => this.received(wire, reader, d));
      // A RELP server does not half-close to go on reading: its FIN ends the session, and
      // the frames it did not answer go again (a server killed while we wait on
      // acknowledgements sends nothing else).
      socket.once('end', () => wire.break('the receiver closed the connection'));
      this.wire = wire;
      this.txnr = 1;
      this.sessionAcks = 0;
      const refused = await this.handshake(wire);
      if (refused !== null) {
        this.lost(wire, refused);
        continue;
      }
      this.resend(wire);
      this.prove(wire, STABLE_MS, () => this.sessionAcks > 0 || this.unackedCount === 0);
      return wire;
    }
  }

  /** `open` and its response; null when the session is open, else why not (final refusals throw). */
  private async handshake(wire: Wire): Promise<string | null> {
    const offers = `relp_version=0\nrelp_software=oqfwd,${VERSION}\ncommands=syslog`;
    this.awaited = { txnr: this.txnr, frame: null };
    wire.write(frame(this.txnr++, 'open', offers));
    const awaited = this.awaited;
    const reason = await this.wait(wire, () => awaited.frame !== null, this.opts.stallTimeoutMs || 60000);
    this.awaited = null;
    if (reason !== null) return `no RELP session: ${reason}`;
    const rsp = responseStatus(awaited.frame!.data);
    if (rsp.code !== 200) {
      wire.break('refused');
      throw new ConnectError(`${this.opts.target.name}: the receiver refused the RELP session: ${rsp.text}`);
    }
    const commands = /^commands=(.*)$/m.exec(rsp.offers)?.[1]?.split(',') ?? [];
    if (!commands.includes('syslog')) {
      wire.break('refused');
      throw new ConnectError(`${this.opts.target.name}: the receiver does not take syslog messages over RELP (it offers: ${commands.join(',') || 'nothing'})`);
    }
    return null;
  }

  /** Frames that arrived from the server. */
  private received(wire: Wire, reader: FrameReader, data: Buffer): void {
    try {
      reader.feed(data, (txnr, command, buf, start, end) => {
        if (wire.broken !== null) return;
        if (txnr === 0 && command === 'serverclose') {
          wire.break('the receiver closed the session');
        } else if (command !== 'rsp') {
          wire.break(`RELP protocol error: a "${command}" command from the server`);
        } else if (this.awaited !== null && txnr === this.awaited.txnr) {
          this.awaited.frame = { txnr, command, data: Buffer.from(buf.subarray(start, end)) };
        } else {
          this.acknowledge(wire, txnr, buf, start, end);
        }
      });
    } catch (err) {
      wire.break(`RELP protocol error: ${(err as RelpProtocolError).message}`);
    }
  }

  /** A response to a `syslog` frame: responses come in the order of the commands. */
  private acknowledge(wire: Wire, txnr: number, buf: Buffer, start: number, end: number): void {
    const head = this.unacked[0];
    const expected = head === undefined ? -1 : head.firstTxnr + head.acked;
    if (txnr !== expected) {
      wire.break(`RELP protocol error: a response to ${txnr} where ${expected} was due`);
      return;
    }
    if (statusCode(buf, start, end) !== 200) {
      wire.break(`the receiver refused an event: ${responseStatus(buf.subarray(start, end)).text}`);
      return;
    }
    // The message is the syslog prefix and the event; the event was handed on with its newline.
    this.ackedBytes += head!.msgEnd[head!.acked]! - head!.msgStart[head!.acked]! - this.prefix.length + 1;
    head!.acked++;
    this.unackedCount--;
    this.sessionAcks++;
    this.c.eventsConfirmed++;
    if (head!.acked === head!.msgStart.length) {
      this.unacked.shift();
      this.unackedBytes -= head!.buf.length;
      // Its last frame was read by the receiver, so every byte of it left the socket.
      if (head!.memory !== null && head!.memory.length <= MAX_SPARE && this.spares.length < SPARES) this.spares.push(head!.memory);
    }
  }

  /** Every unacknowledged frame again, renumbered for the new session. */
  private resend(wire: Wire): void {
    if (this.unackedCount === 0) return;
    const empty = Buffer.alloc(0);
    const again: Batch[] = [];
    for (const b of this.unacked) {
      const starts: number[] = [];
      const ends: number[] = [];
      for (let k = b.acked; k < b.msgStart.length; k++) {
        starts.push(b.msgStart[k]!);
        ends.push(b.msgEnd[k]!);
      }
      const f = syslogFrames(b.buf, starts, ends, empty, this.txnr);
      again.push({ ...f, memory: null, firstTxnr: this.txnr, acked: 0 });
      this.txnr += starts.length;
    }
    this.unacked = again;
    this.unackedBytes = again.reduce((n, b) => n + b.buf.length, 0);
    this.c.eventsReplayed += this.unackedCount;
    for (const b of again) {
      this.c.bytesSent += b.buf.length;
      wire.write(b.buf);
    }
    this.connector.once('sent the unacknowledged events again (duplicates are possible; --stats counts them)');
  }

  protected async send(given: Buffer): Promise<void> {
    // Events arrive whole from the converter; a chunk cut inside one still loses nothing.
    const chunk = this.tail === null ? given : Buffer.concat([this.tail, given]);
    this.tail = null;
    let n = 0;
    let at = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; at = nl + 1, nl = chunk.indexOf(10, at)) {
      if (n === this.lineEnds.length) this.growLines();
      this.lineStarts[n] = at;
      this.lineEnds[n++] = nl;
    }
    if (at < chunk.length) this.tail = Buffer.from(chunk.subarray(at));
    const starts = this.lineStarts;
    const ends = this.lineEnds;
    let k = 0;
    while (k < n) {
      const wire = await this.ready();
      if (this.txnr > this.maxTxnr) {
        await this.renew(wire);
        continue;
      }
      const full = this.full() ? await this.wait(wire, () => !this.full()) : null;
      if (full !== null) {
        this.lost(wire, full);
        continue;
      }
      // As many frames as the window and the transaction numbers allow.
      const most = Math.min(n - k, this.opts.window - this.unackedCount, this.maxTxnr - this.txnr + 1);
      let m = 0;
      let bytes = 0;
      for (; m < most && (m === 0 || this.unackedBytes + bytes < this.opts.windowBytes); m++) bytes += ends[k + m]! - starts[k + m]! + this.prefix.length + FRAME_OVERHEAD;
      const memory = this.frameBuffer(bytes);
      const msgStart = new Int32Array(m);
      const msgEnd = new Int32Array(m);
      const size = writeSyslogFrames(memory, 0, chunk, starts, ends, k, k + m, this.prefix, this.txnr, msgStart, msgEnd);
      const buf = memory.subarray(0, size);
      this.unacked.push({ buf, memory, msgStart, msgEnd, firstTxnr: this.txnr, acked: 0 });
      this.unackedCount += m;
      this.unackedBytes += size;
      this.txnr += m;
      this.c.eventsSent += m;
      this.c.bytesSent += size;
      k += m;
      wire.write(buf);
      const reason = await this.wait(wire, () => wire.drained);
      if (reason !== null) this.lost(wire, reason);
    }
    this.opts.written?.(given); // copied into frames: the chunk itself is not read again
  }

  private growLines(): void {
    const starts = new Int32Array(this.lineStarts.length * 2);
    const ends = new Int32Array(this.lineEnds.length * 2);
    starts.set(this.lineStarts);
    ends.set(this.lineEnds);
    this.lineStarts = starts;
    this.lineEnds = ends;
  }

  /** No more frames may go before acknowledgements come. */
  private full(): boolean {
    return this.unackedCount >= this.opts.window || (this.unackedCount > 0 && this.unackedBytes >= this.opts.windowBytes);
  }

  /** A buffer of at least `size` bytes to write frames into: a spare, or fresh memory. */
  private frameBuffer(size: number): Buffer {
    for (let i = 0; i < this.spares.length; i++) {
      if (this.spares[i]!.length >= size) return this.spares.splice(i, 1)[0]!;
    }
    return Buffer.allocUnsafeSlow(Math.max(size, MIN_FRAME_BUFFER));
  }

  /** Transaction numbers run out: close this session once everything is acknowledged; the next one starts at 1. */
  private async renew(wire: Wire): Promise<void> {
    const reason = await this.wait(wire, () => this.unackedCount === 0);
    if (reason !== null) {
      this.lost(wire, reason);
      return;
    }
    await this.close(wire);
  }

  protected async finish(): Promise<void> {
    if (this.tail !== null) await this.send(Buffer.from('\n'));
    for (;;) {
      if (this.unackedCount === 0 && this.wire === null) return;
      const wire = await this.ready();
      const reason = await this.wait(wire, () => this.unackedCount === 0);
      if (reason === null) break;
      this.lost(wire, reason);
    }
    if (this.wire !== null) await this.close(this.wire);
  }

  /** `close`, its response, then the connection; none of it can lose an event any more. */
  private async close(wire: Wire): Promise<void> {
    const awaited: { txnr: number; frame: Frame | null } = { txnr: this.txnr, frame: null };
    this.awaited = awaited;
    wire.write(frame(this.txnr++, 'close', ''));
    await this.wait(wire, () => awaited.frame !== null || wire.peerEnded, CLOSE_WAIT_MS);
    this.awaited = null;
    wire.socket.end();
    await this.wait(wire, () => wire.closed, 1000);
    wire.break('closed');
    if (this.wire === wire) this.wire = null;
    // Every frame of it acknowledged: whatever outage came before is over.
    if (this.sessionAcks > 0) this.connector.stable();
  }
}
