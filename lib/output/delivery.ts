import type { Writable } from 'node:stream';

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

/** A large write is sliced so that progress inside one event is seen, and a slow receiver is no stall. */
export const SLICE_BYTES = 256 * 1024;
