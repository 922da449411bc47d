import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Writable } from 'node:stream';
import { describeDestination } from './destination.js';

/** TLS settings of a `tls://` destination. */
export interface TlsOptions {
  /** CA certificates (PEM) to verify the receiver with. Default: Node's bundled roots. */
  ca?: Buffer;
  /** Client certificate (PEM) for receivers that ask for one. Default: none. */
  cert?: Buffer;
  /** Key (PEM) of the client certificate. Default: none. */
  key?: Buffer;
  /** Name the receiver's certificate must carry. Default: the host of the destination. */
  servername?: string;
  /** Do not verify the receiver's certificate. Default false. */
  insecure: boolean;
}

/** How a TCP sink connects, and how much it holds. */
export interface TcpSinkOptions {
  host: string;
  port: number;
  /** TLS settings, or null for plain TCP. */
  tls: TlsOptions | null;
  /** How long an outage (or the first connection) may last before the sink fails, ms; 0 is forever. Default 30 s. */
  connectTimeoutMs: number;
  /** A write that makes no progress for this long means a dead or stopped receiver: reconnect, ms. Default 60 s. */
  stallTimeoutMs: number;
  /** Bytes of the latest events sent again after a reconnect. Default 16 MiB. */
  replayBytes: number;
  /** Told of connection events worth a line on stderr. */
  notify: (message: string) => void;
  /** Told of each chunk the sink will not read again, so that its memory can be reused. Default: nobody. */
  written?: (chunk: Buffer) => void;
}

/** Counters of a TCP sink, for --stats. */
export interface TcpStats {
  bytesSent: number;
  eventsSent: number;
  reconnects: number;
  eventsReplayed: number;
}

/** Connection attempts back off from this to {@link BACKOFF_MAX_MS}, with jitter. */
export const BACKOFF_MIN_MS = 100;
export const BACKOFF_MAX_MS = 5000;

/** A receiver that refused us for good (a TLS verification failure): retrying cannot help. */
export class ConnectError extends Error {}

function countLines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * NDJSON to a TCP or TLS receiver, at least once.
 *
 * A successful write only means the kernel took the bytes: a receiver that dies loses what
 * sat in its socket buffer and ours. So the sink keeps the latest `replayBytes` of events
 * and, when a connection breaks (error, reset, the receiver closing, or no progress for
 * `stallTimeoutMs`), reconnects with capped exponential backoff and sends them again.
 * Duplicates are possible and counted; loss is not, within that window.
 *
 * While the receiver is slow or away, `_write` does not complete, so the pipeline stops
 * reading input: memory is the replay window plus one chunk, however long the outage.
 */
export class TcpSink extends Writable {
  readonly counters: TcpStats = { bytesSent: 0, eventsSent: 0, reconnects: 0, eventsReplayed: 0 };
  private socket: Socket | null = null;
  /** The latest chunks written, oldest first, at least `replayBytes` of them when there are. */
  private window: Buffer[] = [];
  /** Events in each chunk of the window. */
  private windowCounts: number[] = [];
  private windowBytes = 0;
  private windowEvents = 0;
  /** Writes of each chunk not completed yet: the socket still holds it. */
  private inFlight = new Map<Buffer, number>();
  /** Chunks done with but still in flight: given back once their writes complete. */
  private letGo = new Set<Buffer>();
  /** The connection broke after the window was written to it: send the window again. */
  private needsReplay = false;
  /** Set when the current socket broke; a write waiting on it resolves. */
  private broken: ((reason: string) => void) | null = null;
  private closing = false;
  private readonly name: string;

  constructor(private readonly opts: TcpSinkOptions) {
    super({ highWaterMark: 1024 * 1024 });
    this.name = describeDestination({ kind: 'tcp', tls: opts.tls !== null, host: opts.host, port: opts.port });
  }

  /** Events that left the replay window: as good as delivered. */
  get deliveredEvents(): number {
    return this.counters.eventsSent - this.windowEvents;
  }

  /** Connects (retrying for up to connectTimeoutMs); the run waits for this before reading. */
  async open(): Promise<void> {
    this.socket = await this.connectWithRetry(null);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (error?: Error | null) => void): void {
    this.send(chunk).then(() => done(), done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.finish().then(() => done(), done);
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    this.closing = true;
    this.socket?.destroy();
    done(err);
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

  private async send(chunk: Buffer): Promise<void> {
    const events = countLines(chunk);
    const kept = this.remember(chunk, events);
    this.counters.bytesSent += chunk.length;
    this.counters.eventsSent += events;
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

  /**
   * Writes `chunks` (the newest `events` events), or, when the connection broke since the
   * window was last written, reconnects and writes the whole window, which ends with them.
   */
  private async deliver(chunks: Buffer[], events: number): Promise<void> {
    for (;;) {
      if (this.socket === null) this.socket = await this.connectWithRetry('connection lost');
      const replay = this.needsReplay;
      // Counted as sent again when written, so a replay cut short by another break counts twice.
      const again = replay ? this.windowEvents - events : 0;
      this.counters.eventsReplayed += again;
      const reason = await this.writeAll(this.socket, replay ? this.window : chunks);
      if (reason === null) {
        if (replay) {
          this.needsReplay = false;
          if (again > 0) this.opts.notify(`${this.name}: sent the last ${again} events again (duplicates are possible)`);
        }
        return;
      }
      this.drop(reason);
    }
  }

  /** Writes `chunks`; resolves null when the kernel has taken them, or why the connection broke. */
  private writeAll(socket: Socket, chunks: Buffer[]): Promise<string | null> {
    return new Promise((resolve) => {
      let stall: NodeJS.Timeout | null = null;
      const settle = (reason: string | null): void => {
        if (stall !== null) clearTimeout(stall);
        socket.off('drain', onDrain);
        this.broken = null;
        resolve(reason);
      };
      const onDrain = (): void => settle(null);
      this.broken = settle;
      let ok = true;
      for (const c of chunks) {
        this.inFlight.set(c, (this.inFlight.get(c) ?? 0) + 1);
        ok = socket.write(c, () => this.landed(c));
      }
      if (ok) {
        settle(null);
        return;
      }
      socket.on('drain', onDrain);
      // Progress is the queue shrinking: a slow receiver that keeps reading is no stall.
      let queued = socket.writableLength;
      const check = (): void => {
        if (socket.writableLength >= queued) {
          settle(`no progress for ${this.opts.stallTimeoutMs / 1000} s`);
          return;
        }
        queued = socket.writableLength;
        stall = setTimeout(check, this.opts.stallTimeoutMs);
      };
      stall = setTimeout(check, this.opts.stallTimeoutMs);
    });
  }

  /** Forget a broken connection. */
  private drop(reason: string): void {
    const s = this.socket;
    this.socket = null;
    this.needsReplay = true;
    if (s !== null) {
      s.removeAllListeners('close');
      s.destroy();
    }
    this.opts.notify(`${this.name}: ${reason}; reconnecting`);
  }

  private async connectWithRetry(outage: string | null): Promise<Socket> {
    const started = Date.now();
    let delay = BACKOFF_MIN_MS;
    let lastError = '';
    for (let attempt = 0; ; attempt++) {
      if (this.closing) throw new ConnectError(`${this.name}: closed`);
      try {
        const socket = await this.connectOnce();
        if (outage !== null) {
          this.counters.reconnects++;
          this.opts.notify(`${this.name}: reconnected after ${((Date.now() - started) / 1000).toFixed(1)} s`);
        }
        return socket;
      } catch (err) {
        if (err instanceof ConnectError) throw err;
        lastError = (err as Error).message;
      }
      const spent = Date.now() - started;
      if (this.opts.connectTimeoutMs > 0 && spent >= this.opts.connectTimeoutMs) {
        throw new ConnectError(`${this.name}: cannot connect for ${(spent / 1000).toFixed(1)} s: ${lastError}`);
      }
      if (attempt === 0 && outage === null) this.opts.notify(`${this.name}: ${lastError}; retrying`);
      // Capped exponential backoff with jitter: a fleet does not reconnect in lockstep.
      const wait = delay / 2 + (Math.random() * delay) / 2;
      await sleep(this.opts.connectTimeoutMs > 0 ? Math.min(wait, this.opts.connectTimeoutMs - spent) : wait);
      delay = Math.min(delay * 2, BACKOFF_MAX_MS);
    }
  }

  private connectOnce(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const t = this.opts.tls;
      let socket: Socket;
      if (t === null) {
        socket = netConnect({ host: this.opts.host, port: this.opts.port });
        socket.once('connect', () => ready());
      } else {
        const options: ConnectionOptions = {
          host: this.opts.host,
          port: this.opts.port,
          minVersion: 'TLSv1.2',
          rejectUnauthorized: !t.insecure,
        };
        // Without it, the certificate is checked against the host (an IP address as an IP).
        if (t.servername !== undefined) options.servername = t.servername;
        if (t.ca) options.ca = t.ca;
        if (t.cert) options.cert = t.cert;
        if (t.key) options.key = t.key;
        socket = tlsConnect(options);
        socket.once('secureConnect', () => ready());
      }
      const fail = (err: NodeJS.ErrnoException): void => {
        socket.destroy();
        if (t !== null && isCertificateError(err)) {
          reject(new ConnectError(`${this.name}: certificate verification failed: ${err.code}: ${err.message}`));
        } else {
          reject(err);
        }
      };
      socket.once('error', fail);
      const ready = (): void => {
        socket.off('error', fail);
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 10000);
        // Once up: any sign the connection is gone breaks the write that waits on it, or the
        // next one. 'end' is the receiver closing: what it had not read is in the window.
        const gone = (reason: string): void => {
          if (this.socket === socket) {
            if (this.broken !== null) this.broken(reason);
            else if (!this.closing) this.drop(reason);
          }
        };
        socket.on('error', (err: NodeJS.ErrnoException) => {
          // A receiver that rejects our certificate does so after the handshake (TLS 1.3):
          // as final as a failed verification on our side.
          if (t !== null && isCertificateError(err)) this.destroy(new ConnectError(`${this.name}: the receiver refused the connection: ${err.code}: ${err.message}`));
          else gone(`connection error: ${err.message}`);
        });
        socket.on('end', () => gone('the receiver closed the connection'));
        socket.on('close', () => gone('connection closed'));
        socket.on('data', () => {}); // receivers may talk back; nothing to read here
        resolve(socket);
      };
    });
  }

  private async finish(): Promise<void> {
    // A connection that broke after the last write: what it may have lost goes again.
    if (this.needsReplay && this.window.length > 0) await this.deliver([], 0);
    const socket = this.socket;
    this.closing = true;
    if (socket === null) return;
    // End our side and wait for the receiver to close its own, so everything was read.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.destroy();
        resolve();
      }, CLOSE_WAIT_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
    });
  }
}

/** How long the sink waits at the end for the receiver to close its side. */
export const CLOSE_WAIT_MS = 5000;

function isCertificateError(err: NodeJS.ErrnoException): boolean {
  const code = err.code ?? '';
  return (
    code.startsWith('ERR_TLS_CERT') ||
    code.includes('CERT') ||
    code.includes('SELF_SIGNED') ||
    code.startsWith('UNABLE_TO_') ||
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    code.startsWith('ERR_SSL_')
  );
}
