import type { Socket } from 'node:net';
import { tlsFailure } from './connect.js';

/** A large write is sliced so that progress inside one event is seen, and a slow receiver is no stall. */
export const SLICE_BYTES = 256 * 1024;

/** Why a connection that ended with neither error nor reset broke: it closed. */
export const CLOSED = 'connection closed';

/**
 * One connection to a receiver, as the sinks see it: writes sliced so that progress within
 * a large event shows, the time of the last progress, and how the connection ended. Sinks
 * wait on it with {@link until}, which also notices a connection that makes no progress.
 */
export class Wire {
  readonly opened = Date.now();
  /** Buffers written and not yet wholly handed to the kernel. */
  pending = 0;
  /** What waits to go to the socket, the head partly sent. */
  private readonly queue: Array<{ buf: Buffer; at: number; landed: (() => void) | null }> = [];
  /** Slices in the socket's own queue. */
  private inSocket = 0;
  /** When something last moved: a write completed, bytes arrived. */
  lastProgress = Date.now();
  /** When the last write completed (0: none did). */
  lastWriteDone = 0;
  /** The receiver sent FIN: it may have closed, or only half-closed and still read. */
  peerEnded = false;
  /** When the FIN came (0: not yet). */
  peerEndedAt = 0;
  /** When the first write after the FIN completed (0: none did). */
  firstDoneAfterEnd = 0;
  /** Why the connection broke, once it did. */
  broken: string | null = null;
  /** A refusal retrying cannot help (TLS, after the handshake). */
  fatal: string | null = null;
  /** The socket is closed and every listener ran. */
  closed = false;
  /** The first bytes the receiver sent, if any (a plain-TCP receiver normally sends none). */
  firstBytes: Buffer | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly socket: Socket,
    tls: boolean,
    onData: ((data: Buffer) => void) | null,
  ) {
    socket.on('data', (d: Buffer) => {
      if (this.firstBytes === null) this.firstBytes = d.subarray(0, 16);
      this.lastProgress = Date.now();
      onData?.(d);
      this.changed();
    });
    socket.on('end', () => {
      this.peerEnded = true;
      this.peerEndedAt = Date.now();
      this.changed();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A receiver that rejects our certificate does so after the handshake (TLS 1.3).
      const refusal = tls ? tlsFailure(err, true) : null;
      if (refusal !== null && /refused/.test(refusal)) this.fatal = refusal;
      this.break(refusal ?? `connection error: ${err.code ?? err.message}`);
    });
    socket.on('close', () => {
      this.closed = true;
      this.break(CLOSED);
    });
  }

  /** Marks the connection broken (the first reason wins) and tears it down. */
  break(reason: string): void {
    if (this.broken === null) this.broken = reason;
    if (!this.socket.destroyed) this.socket.destroy();
    // What never reached the socket will not: its owners learn it as a landed write.
    for (const q of this.queue.splice(0)) {
      this.pending--;
      q.landed?.();
    }
    this.changed();
  }

  /**
   * Queues `buf`; `landed` runs once its last byte was handed to the kernel (or the write
   * failed). Slices go to the socket two at a time, never all at once: the socket would
   * pass everything queued to one writev() and report nothing until all of it was taken.
   */
  write(buf: Buffer, landed?: () => void): void {
    this.queue.push({ buf, at: 0, landed: landed ?? null });
    this.pending++;
    this.pump();
  }

  private pump(): void {
    while (this.inSocket < 2 && this.queue.length > 0 && !this.socket.destroyed) {
      const head = this.queue[0]!;
      const end = Math.min(head.buf.length, head.at + SLICE_BYTES);
      const slice = head.at === 0 && end === head.buf.length ? head.buf : head.buf.subarray(head.at, end);
      head.at = end;
      const last = end === head.buf.length;
      if (last) this.queue.shift();
      this.inSocket++;
      this.socket.write(slice, (err) => {
        this.inSocket--;
        // Only a write the kernel took is progress, and proof that no reset had come.
        if (!err) {
          this.lastProgress = this.lastWriteDone = Date.now();
          if (this.peerEnded && this.firstDoneAfterEnd === 0) this.firstDoneAfterEnd = this.lastWriteDone;
        }
        if (last) {
          this.pending--;
          head.landed?.();
        }
        this.pump();
        this.changed();
      });
    }
  }

  /** Little is queued: the sink may write more. */
  get drained(): boolean {
    return this.queue.length === 0 && !this.socket.writableNeedDrain;
  }

  /**
   * After its FIN, the receiver still takes data: writes kept completing for `ms` after the
   * first one that followed the FIN. A receiver that had closed for good would have answered
   * that first one with a reset, and the writes after it would have failed.
   */
  stillReads(ms: number): boolean {
    return this.peerEnded && this.firstDoneAfterEnd > 0 && this.lastWriteDone - this.firstDoneAfterEnd >= ms;
  }

  /** Everything written was handed to the kernel. */
  get idle(): boolean {
    return this.pending === 0;
  }

  private changed(): void {
    for (const w of [...this.waiters]) w();
  }

  /**
   * Waits until `done()` holds; resolves null then, or with why not: the connection broke,
   * nothing moved for `stallMs` (0: never a stall) while waiting, or `'deadline'` once
   * `deadlineMs` have passed (when given).
   */
  until(done: () => boolean, stallMs: number, deadlineMs = 0): Promise<string | null> {
    const deadline = deadlineMs > 0 ? Date.now() + deadlineMs : 0;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const check = (): void => {
        let result: string | null | undefined;
        if (done()) result = null;
        else if (this.broken !== null) result = this.broken;
        else if (stallMs > 0 && Date.now() - this.lastProgress >= stallMs) result = `no progress for ${stallMs / 1000} s`;
        else if (deadline > 0 && Date.now() >= deadline) result = 'deadline';
        if (result === undefined) return;
        if (timer !== null) clearTimeout(timer);
        this.waiters.delete(check);
        this.socket.off('drain', check);
        resolve(result);
      };
      const arm = (): void => {
        let wait = stallMs > 0 ? stallMs - (Date.now() - this.lastProgress) : Infinity;
        if (deadline > 0) wait = Math.min(wait, deadline - Date.now());
        if (wait === Infinity) return;
        timer = setTimeout(() => {
          check();
          if (this.waiters.has(check)) arm();
        }, Math.max(10, wait));
      };
      this.waiters.add(check);
      this.socket.on('drain', check);
      check();
      if (this.waiters.has(check)) arm();
    });
  }
}
