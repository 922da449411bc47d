import { fstatSync, readFileSync, statSync } from 'node:fs';
import { Writable } from 'node:stream';

/**
 * Whether descriptor `fd` was closed when the process started (`oqfwd FILE >&-`), where that can
 * be told: Node reopens a closed standard descriptor on /dev/null for reading and writing, while
 * a shell's `> /dev/null` opens it write-only, and Linux's /proc/self/fdinfo shows the mode. A
 * parent that hands over /dev/null opened for both (libuv's stdio 'ignore', daemon(3)) looks
 * the same and is taken for closed too. False where /proc is not there.
 */
export function closedAtStart(fd = 1): boolean {
  try {
    const st = fstatSync(fd);
    if (!st.isCharacterDevice() || st.rdev !== statSync('/dev/null').rdev) return false;
    const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
    return flags !== null && (parseInt(flags[1]!, 8) & 3) === 2; // O_ACCMODE is O_RDWR
  } catch {
    return false;
  }
}

/**
 * Events to the process's stdout (a file, a pipe or a terminal), one chunk at a time: each
 * chunk is handed to `written` once the write completed, when the stream no longer holds it,
 * so its memory can be reused (see OutputBuffer.recycle). Backpressure is unchanged: the
 * next chunk waits for the last one, as it would wait for 'drain' behind a chunk larger than
 * the stream's high-water mark.
 */
export class StdoutSink extends Writable {
  private done = 0;

  /**
   * @param target the stream written to; to give chunks to `written`, it must not keep them
   *   after their write completed (true of files, pipes, terminals and sockets, not of a
   *   PassThrough)
   * @param written told of each chunk once its write completed; default: nobody
   * @param render what is written for a chunk of events (--pretty); default: the chunk itself
   */
  constructor(
    private readonly target: Writable,
    private readonly written: ((chunk: Buffer) => void) | null,
    private readonly render: ((chunk: Buffer) => string) | null = null,
  ) {
    super({ highWaterMark: 0 });
    // The target reports a failed write twice: to the write's callback and, a tick later, as
    // 'error', which must find a listener even after this sink is gone (a closed pipe is no
    // crash). The target lives as long as the process, and so does the listener.
    target.on('error', (err) => {
      if (!this.destroyed) this.destroy(err);
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (error?: Error | null) => void): void {
    this.target.write(this.render === null ? chunk : this.render(chunk), (err) => {
      if (err) {
        done(err);
        return;
      }
      this.done += chunk.length;
      this.written?.(chunk);
      done();
    });
  }

  /** Bytes whose write completed: the target took them. */
  delivered(): number {
    return this.done;
  }
}
