import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

/** TLS settings of a `tls://` or `relp+tls://` destination. */
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

/** Where a sink connects to. */
export interface Target {
  host: string;
  port: number;
  /** TLS settings, or null for plain TCP. */
  tls: TlsOptions | null;
  /** The destination as the user wrote it, for messages. */
  name: string;
}

/** A receiver that refused us for good (TLS verification, a protocol it does not speak): retrying cannot help. */
export class ConnectError extends Error {}

/** The run was stopped (a signal) while connecting: nothing to report. */
export class StoppedError extends Error {}

/** Connection attempts back off from this to {@link BACKOFF_MAX_MS}, with jitter. */
export const BACKOFF_MIN_MS = 100;
export const BACKOFF_MAX_MS = 5000;
/** A connection that lasts this long with data on it ends an outage; a shorter one does not reset the backoff. */
export const STABLE_MS = 1000;
/** One attempt (TCP connect plus TLS handshake) may take at most this long, within --connect-timeout. */
export const ATTEMPT_TIMEOUT_MS = 10000;
/** While an outage lasts, one line on stderr at most this often. */
export const OUTAGE_REPORT_MS = 30000;

/**
 * What a TLS error means to the user, or null when it is no TLS error. Every TLS failure is
 * final: a certificate, a protocol version or a peer that speaks no TLS do not change by
 * retrying, and a fleet of forwarders retrying a bad certificate is a storm.
 */
export function tlsFailure(err: NodeJS.ErrnoException, afterHandshake: boolean): string | null {
  const code = err.code ?? '';
  const what = `${code}: ${err.message}`;
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || code === 'ERR_SSL_HTTP_REQUEST') return `the receiver does not speak TLS: ${what}`;
  if (/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|VERSION_TOO_LOW|VERSION_TOO_HIGH/.test(code)) return `TLS protocol version refused (oqfwd speaks TLS 1.2 and 1.3): ${what}`;
  if (/ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_EXPIRED|CERTIFICATE_UNKNOWN|ACCESS_DENIED|UNSUPPORTED_CERTIFICATE|DECRYPT_ERROR)/.test(code)) return `the receiver refused the connection: ${what}`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code.includes('CERT') || code.startsWith('UNABLE_TO_') || code.includes('SELF_SIGNED')) return `certificate verification failed: ${what}`;
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return `TLS ${afterHandshake ? 'connection' : 'handshake'} failed: ${what}`;
  return null;
}

/** Capped exponential backoff with jitter: a fleet does not reconnect in lockstep. */
export class Backoff {
  private delay = BACKOFF_MIN_MS;

  /** The next wait, ms: between half and all of the current delay, which then doubles up to the cap. */
  next(): number {
    const wait = this.delay / 2 + (Math.random() * this.delay) / 2;
    this.delay = Math.min(this.delay * 2, BACKOFF_MAX_MS);
    return wait;
  }

  reset(): void {
    this.delay = BACKOFF_MIN_MS;
  }
}

/** One connection attempt, TLS handshake included, bounded by `timeoutMs`; `cancel` aborts it. */
function connectOnce(target: Target, timeoutMs: number, cancel: { abort: (() => void) | null }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const t = target.tls;
    let socket: Socket;
    if (t === null) {
      socket = netConnect({ host: target.host, port: target.port, allowHalfOpen: true });
    } else {
      // allowHalfOpen is passed on to the TLSSocket, though the type does not say so.
      const options: ConnectionOptions & { allowHalfOpen: boolean } = {
        host: target.host,
        port: target.port,
        minVersion: 'TLSv1.2',
        rejectUnauthorized: !t.insecure,
        allowHalfOpen: true,
      };
      // Without it, the certificate is checked against the host (an IP address as an IP).
      if (t.servername !== undefined) options.servername = t.servername;
      if (t.ca) options.ca = t.ca;
      if (t.cert) options.cert = t.cert;
      if (t.key) options.key = t.key;
      socket = tlsConnect(options);
    }
    const timer = setTimeout(() => fail(new Error(`no answer${t === null ? '' : ' to the TLS handshake'} within ${(timeoutMs / 1000).toFixed(1)} s`)), timeoutMs);
    const settle = (): void => {
      clearTimeout(timer);
      cancel.abort = null;
      socket.off('error', fail);
    };
    function fail(err: NodeJS.ErrnoException): void {
      settle();
      socket.destroy();
      const tls = t === null ? null : tlsFailure(err, false);
      reject(tls === null ? err : new ConnectError(`${target.name}: ${tls}`));
    }
    cancel.abort = () => fail(new StoppedError('stopped'));
    socket.once('error', fail);
    socket.once(t === null ? 'connect' : 'secureConnect', () => {
      settle();
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10000);
      resolve(socket);
    });
  });
}

/** How a connector retries, and whom it tells. */
export interface ConnectorOptions {
  /** How long an outage (or the first connection) may last before giving up, ms; 0 is forever. */
  connectTimeoutMs: number;
  /** Told of connection events worth a line on stderr; repeated failures are summarised first. */
  notify: (message: string) => void;
}

/**
 * Connects, and reconnects after a break, with capped exponential backoff and jitter, a
 * timer on every attempt and an outage clock. An outage ends only when a connection has
 * proved itself ({@link stable}): a receiver that accepts and drops at once, or a dying
 * listener that still takes the first retry, keeps the backoff growing and the clock running.
 * Each kind of failure is one line per outage; then at most one line per {@link OUTAGE_REPORT_MS},
 * counting the failures not shown.
 */
export class Connector {
  private readonly backoff = new Backoff();
  /** When the current outage began (Date.now()), or null while connected and stable. */
  private outageSince: number | null = null;
  private attempts = 0;
  private lastError = '';
  private lastReported = 0;
  /** What this outage has said already. */
  private readonly seen = new Set<string>();
  private suppressed = 0;
  private stopped = false;
  private readonly cancel: { abort: (() => void) | null } = { abort: null };
  private wake: (() => void) | null = null;
  /** Reconnections that proved themselves. */
  reconnects = 0;
  /** The outage began with a broken connection (not at the start, nor after a quiet close). */
  private afterBreak = false;

  constructor(
    private readonly target: Target,
    private readonly opts: ConnectorOptions,
  ) {}

  /** Stop: a connection attempt or a wait between attempts ends with a StoppedError. */
  stop(): void {
    this.stopped = true;
    this.cancel.abort?.();
    this.wake?.();
  }

  /** A connection broke: the outage clock starts now unless it already runs. */
  broke(reason: string): void {
    if (this.outageSince === null || !this.afterBreak) {
      this.outageSince ??= Date.now();
      this.afterBreak = true;
      this.attempts = 0;
      this.opts.notify(`${this.target.name}: ${reason}; reconnecting`);
      this.seen.clear();
      this.seen.add(reason);
      this.lastReported = Date.now();
      this.lastError = reason;
    } else {
      this.failed(reason);
    }
  }

  /** The current connection carried data for {@link STABLE_MS}: the outage, if any, is over. */
  stable(): void {
    if (this.outageSince !== null && this.afterBreak) {
      this.reconnects++;
      const s = ((Date.now() - this.outageSince) / 1000).toFixed(1);
      this.opts.notify(`${this.target.name}: reconnected after ${s} s${this.attempts > 1 ? ` (${this.attempts} attempts)` : ''}`);
    }
    this.outageSince = null;
    this.afterBreak = false;
    this.suppressed = 0;
    this.seen.clear();
    this.backoff.reset();
  }

  /** Whether the outage has lasted longer than --connect-timeout allows. */
  private expired(): boolean {
    return this.opts.connectTimeoutMs > 0 && this.outageSince !== null && Date.now() - this.outageSince >= this.opts.connectTimeoutMs;
  }

  /** Says `message` once per outage (later ones are summarised with the failures). */
  once(message: string): void {
    if (this.seen.has(message)) return;
    this.seen.add(message);
    this.opts.notify(`${this.target.name}: ${message}`);
  }

  private failed(message: string): void {
    const now = Date.now();
    if (!this.seen.has(message) || now - this.lastReported >= OUTAGE_REPORT_MS) {
      this.seen.add(message);
      const more = this.suppressed > 0 ? ` (${this.suppressed} more failures before)` : '';
      const down = this.outageSince === null ? 0 : now - this.outageSince;
      const since = down < 1000 ? '' : `, down for ${(down / 1000).toFixed(1)} s`;
      this.opts.notify(`${this.target.name}: ${message}; retrying${since}${more}`);
      this.lastReported = now;
      this.suppressed = 0;
    } else {
      this.suppressed++;
    }
    this.lastError = message;
  }

  /**
   * A new connection. Waits the backoff first when an outage is under way; throws a
   * ConnectError when the receiver refuses for good or the outage outlasts --connect-timeout,
   * a StoppedError when stopped.
   */
  async connect(): Promise<Socket> {
    if (this.outageSince === null) {
      this.outageSince = Date.now();
      this.attempts = 0;
    }
    for (;;) {
      if (this.stopped) throw new StoppedError('stopped');
      // Right after a break, too: a dying receiver's listener may still take the first retry.
      if (this.attempts > 0 || this.afterBreak) await this.pause(this.backoff.next());
      if (this.stopped) throw new StoppedError('stopped');
      if (this.expired()) throw this.giveUp();
      this.attempts++;
      const left = this.opts.connectTimeoutMs > 0 ? this.opts.connectTimeoutMs - (Date.now() - this.outageSince!) : ATTEMPT_TIMEOUT_MS;
      try {
        return await connectOnce(this.target, Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, left)), this.cancel);
      } catch (err) {
        if (err instanceof ConnectError || err instanceof StoppedError) throw err;
        this.failed(connectMessage(err));
      }
    }
  }

  private giveUp(): ConnectError {
    const s = ((Date.now() - this.outageSince!) / 1000).toFixed(1);
    const n = this.attempts === 1 ? '1 attempt' : `${this.attempts} attempts`;
    return new ConnectError(`${this.target.name}: cannot connect for ${s} s (${n}): ${this.lastError}`);
  }

  private pause(ms: number): Promise<void> {
    const left = this.opts.connectTimeoutMs > 0 && this.outageSince !== null ? this.opts.connectTimeoutMs - (Date.now() - this.outageSince) : ms;
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, Math.min(ms, left)));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

function connectMessage(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code !== undefined && e.syscall === 'connect' ? `connect ${e.code}` : e.message;
}
