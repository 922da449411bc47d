import { STABLE_MS } from './connect.js';
import { ConnectedSink, countLines, UndeliveredError, type SinkOptions } from './delivery.js';
import { CLOSED, Wire } from './wire.js';

/** How a TCP sink connects, and how much it holds. */
export interface TcpSinkOptions extends SinkOptions {
  /** Bytes of the latest events sent again after a reconnect. Default 16 MiB. */
  replayBytes: number;
}

/**
 * A receiver that sent FIN is taken to have read everything once nothing was written for
 * this long: bytes that reached it after its close would have drawn a reset by then.
 */
export const QUIET_CLOSE_MS = 1000;

/**
 * At the end, our FIN waits this long after the last write completed. A receiver that closed
 * before our last bytes reached it sent its FIN before they arrived, so that FIN is here by
 * then (a round trip under this), and is not taken for the answer to ours.
 */
export const LINGER_MS = 500;

/**
 * NDJSON to a TCP or TLS receiver, at least once, with what plain TCP can prove.
 *
 * A completed write only means the kernel took the bytes. What TCP does tell: on Linux (and
 * the BSDs) a receiver that closes while bytes it has not read sit in its buffer sends a
 * reset, not a FIN. So a FIN, with no reset after the last bytes had time to arrive, means
 * the receiver read everything sent on that connection. The sink confirms its events that
 * way: at the end of a run it half-closes and waits for the receiver's FIN; when a receiver
 * closes a quiet connection (a load balancer's idle timeout), that close confirms too and
 * nothing is sent again.
 *
 * Between confirmations the sink keeps the latest `replayBytes` of events. When a connection
 * breaks (reset, error, no progress for `stallTimeoutMs`), it reconnects and sends them again:
 * duplicates are possible and counted. Events that had left that window when the connection
 * broke are taken as delivered: the window is larger than what the kernels of both ends hold
 * by default (4 MiB send, 6 MiB receive buffers on Linux); --replay-window must stay so.
 *
 * While the receiver is slow or away, `_write` does not complete, so the pipeline stops
 * reading input: memory is the replay window plus one chunk, however long the outage.
 */
export class TcpSink extends ConnectedSink {
  readonly acknowledges = false;
  /** The latest chunks written and not confirmed, oldest first, at least `replayBytes` of them when there are. */
  private window: Buffer[] = [];
  /** Events in each chunk of the window. */
  private windowCounts: number[] = [];
  private windowBytes = 0;
  private windowEvents = 0;
  /** Writes of each chunk not completed yet: the socket still holds it. */
  private inFlight = new Map<Buffer, number>();
  /** Chunks done with but still in flight: given back once their writes complete. */
  private letGo = new Set<Buffer>();
  /** The window was written to a connection that broke before confirming it: send it again. */
  private needsReplay = false;
  /** The end of input was reached: the receiver's FIN is now the answer to ours. */
  private finishing = false;
  /** Bytes of events handed to the sink (each once, replays not counted). */
  private handed = 0;

  constructor(private readonly opts: TcpSinkOptions) {
    super(opts);
  }

  unconfirmed(): number {
    return this.windowEvents;
  }

  /** Confirmed, or out of the replay window (taken as delivered, as a break would). */
  delivered(): number {
    return this.handed - this.windowBytes;
  }

  async open(): Promise<void> {
    await this.reconnect();
  }

  /** Keeps `chunk` (or a copy) in the window; returns what was kept. */
  private remember(chunk: Buffer, events: number): Buffer {
    // Kept for a while: a small chunk must not keep a large block it was cut from alive.
    const kept = chunk.buffer.byteLength > 2 * chunk.length ? Buffer.from(chunk) : chunk;
    this.window.push(kept);
    this.windowCounts.push(events);
    this.windowBytes += kept.length;
    this.windowEvents += events;
    while (this.window.length > 1 && this.windowBytes - this.window[0]!.length >= this.opts.replayBytes) {
      const old = this.window.shift()!;
      this.windowBytes -= old.length;
      this.windowEvents -= this.windowCounts.shift()!;
      this.release(old);
    }
    return kept;
  }

  /** Everything written so far was read by the receiver: nothing is left to send again. */
  private confirmAll(): void {
    this.c.eventsConfirmed = this.c.eventsSent;
    for (const b of this.window) this.release(b);
    this.window = [];
    this.windowCounts = [];
    this.windowBytes = 0;
    this.windowEvents = 0;
    this.needsReplay = false;
  }

  protected async send(chunk: Buffer): Promise<void> {
    const events = countLines(chunk);
    this.handed += chunk.length;
    const kept = this.remember(chunk, events);
    this.c.eventsSent += events;
    await this.deliver([chunk], events);
    if (kept !== chunk) this.release(chunk); // its copy stands in for it in the window
  }

  /** `chunk` is no longer needed here: given back once no write holds it. */
  private release(chunk: Buffer): void {
    if (this.opts.written === undefined) return;
    if (this.inFlight.has(chunk)) this.letGo.add(chunk);
    else this.opts.written(chunk);
  }

  /** A write of `chunk` completed (or failed): the socket let go of it. */
  private landed(chunk: Buffer): void {
    const n = this.inFlight.get(chunk)! - 1;
    if (n > 0) {
      this.inFlight.set(chunk, n);
      return;
    }
    this.inFlight.delete(chunk);
    if (this.letGo.delete(chunk)) this.opts.written?.(chunk);
  }

  /** A new connection, after a break or at the start. */
  private async reconnect(): Promise<Wire> {
    const wire = new Wire(await this.connector.connect(), this.opts.target.tls !== null, null);
    this.wire = wire;
    wire.socket.on('end', () => this.peerEnded(wire));
    // Proved when a write completes STABLE_MS or more after connecting, or when everything
    // written was taken by then: the receiver reads. One that takes a connection and drops
    // it, or fills its buffers and reads no more, does not end an outage.
    this.prove(wire, STABLE_MS, () => wire.idle || wire.lastWriteDone - wire.opened >= STABLE_MS);
    return wire;
  }

  /**
   * The receiver sent FIN. When nothing had been written for QUIET_CLOSE_MS before it, the
   * receiver read everything (it would have sent a reset instead of a FIN otherwise): a quiet
   * close, confirmed, with nothing to send again; what a load balancer's idle timeout does.
   * Otherwise the FIN says nothing yet: a receiver that closed for good resets the next
   * writes (a break, and the window goes again), one that only half-closed takes them.
   */
  private peerEnded(wire: Wire): void {
    if (this.wire !== wire || wire.broken !== null || this.finishing || !wire.idle) return;
    if (wire.lastWriteDone !== 0 && wire.peerEndedAt - wire.lastWriteDone < QUIET_CLOSE_MS) return;
    this.confirmAll();
    this.connector.stable();
    this.wire = null;
    wire.socket.end();
    wire.break('closed by the receiver');
  }

  /** A connection broke: what it may not have delivered, the window, goes again on the next. */
  protected override lost(wire: Wire, reason: string): void {
    if (this.windowEvents > 0) this.needsReplay = true;
    super.lost(wire, reason, reason + tlsHint(wire, this.opts.target.tls !== null));
  }

  /**
   * Writes `chunks` (the newest `events` events), or, when the last connection broke before
   * confirming the window, reconnects and writes the whole window, which ends with them.
   */
  private async deliver(chunks: Buffer[], events: number): Promise<void> {
    for (;;) {
      // A connection that broke while nobody waited on it is lost like any other.
      if (this.wire !== null && this.wire.broken !== null) this.lost(this.wire, this.wire.broken);
      const wire = this.wire ?? (await this.reconnect());
      const replay = this.needsReplay;
      // Counted as sent again when written, so a replay cut short by another break counts twice.
      const again = replay ? this.windowEvents - events : 0;
      this.c.eventsReplayed += again;
      const reason = await this.writeAll(wire, replay ? this.window : chunks);
      if (reason === null) {
        if (replay) {
          this.needsReplay = false;
          if (again > 0) this.connector.once('sent the replay window again (duplicates are possible; --stats counts them)');
        }
        return;
      }
      this.lost(wire, reason);
    }
  }

  /** Writes `chunks`; resolves null once the socket can take more, or why the connection broke. */
  private async writeAll(wire: Wire, chunks: Buffer[]): Promise<string | null> {
    for (const c of chunks) {
      this.inFlight.set(c, (this.inFlight.get(c) ?? 0) + 1);
      this.c.bytesSent += c.length;
      wire.write(c, () => this.landed(c));
    }
    return wire.until(() => wire.drained, this.opts.stallTimeoutMs);
  }

  protected async finish(): Promise<void> {
    this.finishing = true;
    for (;;) {
      // A connection that broke after the last write: what it may have lost goes again.
      if (this.needsReplay && this.windowEvents > 0) await this.deliver([], 0);
      if (this.wire !== null && this.wire.broken !== null) {
        this.lost(this.wire, this.wire.broken);
        continue;
      }
      const wire = this.wire;
      if (wire === null || this.windowEvents === 0) {
        // Nothing unconfirmed (or nothing ever sent): a clean end.
        this.confirmAll();
        if (wire !== null) await this.closeQuietly(wire);
        return;
      }
      // Our FIN waits until a receiver's FIN sent before our last bytes reached it is here.
      const early = await wire.until(() => wire.idle && (wire.peerEnded || Date.now() - wire.lastWriteDone >= LINGER_MS), this.opts.stallTimeoutMs, LINGER_MS);
      if (early !== null && early !== 'deadline') {
        this.lost(wire, early);
        continue;
      }
      // A FIN that came while events were still going out, and no proof since that the
      // receiver still reads: its answer to our FIN would prove nothing. Send the window
      // again on a new connection.
      if (wire.peerEnded && !wire.stillReads(QUIET_CLOSE_MS)) {
        this.lost(wire, 'the receiver closed the connection before the end');
        continue;
      }
      // End our side; the receiver's FIN, with no reset, says it read everything.
      wire.socket.end();
      const reason = await wire.until(() => wire.peerEnded && wire.closed && wire.broken === CLOSED, this.opts.stallTimeoutMs);
      if (reason === null) {
        this.confirmAll();
        if (this.wire === wire) this.wire = null;
        this.connector.stable();
        return;
      }
      const unsure = this.windowEvents;
      if (reason.startsWith('no progress')) {
        wire.break(reason);
        throw new UndeliveredError(`${this.opts.target.name}: the receiver did not close its side within ${this.opts.stallTimeoutMs / 1000} s of ours${tlsHint(wire, this.opts.target.tls !== null)}`, unsure);
      }
      // A reset: it did not read everything. Send the window again on a new connection,
      // within --connect-timeout.
      this.lost(wire, reason);
    }
  }

  private async closeQuietly(wire: Wire): Promise<void> {
    wire.socket.end();
    await wire.until(() => wire.closed, 1000);
    wire.break('closed');
    if (this.wire === wire) this.wire = null;
  }
}

/** A TLS record coming back from a plain TCP receiver means a TLS port. */
function tlsHint(wire: Wire, tls: boolean): string {
  const b = wire.firstBytes;
  return !tls && b !== null && b.length >= 2 && b[0]! >= 0x14 && b[0]! <= 0x17 && b[1] === 3 ? ' (the receiver answered in TLS: use tls://)' : '';
}
