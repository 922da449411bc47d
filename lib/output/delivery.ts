import { Writable } from 'node:stream';
import { ConnectError, Connector, type Target } from './connect.js';
import type { Wire } from './wire.js';

/** What a network sink knows of its events, for --stats and the end of a run. Every count is exact. */
export interface DeliveryCounters {
  /** Bytes written to connections, replays included. */
  bytesSent: number;
  /** Events handed to the sink and written at least once. */
  eventsSent: number;
  /**
   * Events the receiver confirmed: each RELP acknowledgement, or for plain TCP every event
   * sent before a clean close (see {@link TcpSink}).
   */
  eventsConfirmed: number;
  /** Events written again after a connection broke (each time they were). */
  eventsReplayed: number;
  /** Connections that replaced a broken one and proved themselves (carried data for a second). */
  reconnects: number;
}

/** A sink that ships events over the network and can tell what the receiver confirmed. */
export interface NetworkSink extends Writable {
  /** RELP sinks count acknowledgements, TCP sinks confirmations. */
  readonly acknowledges: boolean;
  readonly counters: DeliveryCounters;
  /** Connects (retrying within --connect-timeout); the run waits for this before reading. */
  open(): Promise<void>;
  /** Stop at once: a connection attempt or backoff under way ends with a StoppedError. */
  stop(): void;
  /** Events written to the receiver and not confirmed yet: they may not have arrived. */
  unconfirmed(): number;
  /** Bytes of the events delivered, counted from the first, in order: what a saved position may advance over. */
  delivered(): number;
}

/**
 * The end of a run could not confirm every event: the receiver reset the connection, said
 * nothing, or did not acknowledge. `events` of them may not have arrived.
 */
export class UndeliveredError extends Error {
  constructor(
    message: string,
    readonly events: number,
  ) {
    super(message);
  }
}

/** Events in an NDJSON chunk: its newlines. */
export function countLines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
}

/** What every network sink is given. */
export interface SinkOptions {
  target: Target;
  /** How long an outage (or the first connection) may last before the sink fails, ms; 0 is forever. Default 30 s. */
  connectTimeoutMs: number;
  /** Nothing moving for this long while waiting means a dead or stopped receiver, ms; 0 is never. Default 60 s. */
  stallTimeoutMs: number;
  /** Told of connection events worth a line on stderr. */
  notify: (message: string) => void;
  /** Told of each chunk the sink will not read again, so that its memory can be reused. Default: nobody. */
  written?: (chunk: Buffer) => void;
}

/**
 * What TCP and RELP sinks share: the stream plumbing, the connector, the current connection
 * and its proof timer. Each says how it sends a chunk, how it finishes, how it opens.
 */
export abstract class ConnectedSink extends Writable implements NetworkSink {
  abstract readonly acknowledges: boolean;
  protected readonly c = { bytesSent: 0, eventsSent: 0, eventsConfirmed: 0, eventsReplayed: 0 };
  protected readonly connector: Connector;
  protected wire: Wire | null = null;
  protected stableTimer: NodeJS.Timeout | null = null;

  constructor(private readonly sinkOpts: SinkOptions) {
    super({ highWaterMark: 1024 * 1024 });
    this.connector = new Connector(sinkOpts.target, { connectTimeoutMs: sinkOpts.connectTimeoutMs, notify: sinkOpts.notify });
  }

  get counters(): DeliveryCounters {
    return { ...this.c, reconnects: this.connector.reconnects };
  }

  abstract unconfirmed(): number;
  abstract delivered(): number;
  abstract open(): Promise<void>;
  protected abstract send(chunk: Buffer): Promise<void>;
  protected abstract finish(): Promise<void>;

  stop(): void {
    this.connector.stop();
  }

  /**
   * A connection broke: forget it, and tell the connector (`said` is what stderr gets).
   * A refusal retrying cannot help ends the run.
   */
  protected lost(wire: Wire, reason: string, said = reason): void {
    if (this.wire === wire) this.wire = null;
    wire.break(reason);
    if (wire.fatal !== null) throw new ConnectError(`${this.sinkOpts.target.name}: ${wire.fatal}`);
    this.connector.broke(said);
  }

  /** Calls `proved()` every 100 ms from `ms` on, while `wire` is current and unbroken, until it says yes; then the outage is over. */
  protected prove(wire: Wire, ms: number, proved: () => boolean): void {
    if (this.stableTimer !== null) clearTimeout(this.stableTimer);
    const check = (): void => {
      this.stableTimer = null;
      if (this.wire !== wire || wire.broken !== null) return;
      if (proved()) this.connector.stable();
      else this.stableTimer = setTimeout(check, 100);
    };
    this.stableTimer = setTimeout(check, ms);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (error?: Error | null) => void): void {
    this.send(chunk).then(() => done(), done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.finish().then(() => done(), done);
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    this.stop();
    if (this.stableTimer !== null) clearTimeout(this.stableTimer);
    this.wire?.break('closed');
    done(err);
  }
}
