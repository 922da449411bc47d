import { open, stat } from 'node:fs/promises';
import { compressionOf } from './input/archive.js';
import type { Source } from './input/files.js';

/** How often the progress line is drawn again, ms. */
export const PROGRESS_MS = 500;

/** What the progress line reads: bytes converted and events written, as they are now. */
export interface ProgressSource {
  bytes(): number;
  events(): number;
}

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let u = -1;
  do {
    n /= 1024;
    u++;
  } while (n >= 1024 && u < units.length - 1);
  return `${n.toFixed(1)} ${units[u]}`;
}

function duration(s: number): string {
  const t = Math.ceil(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/**
 * The progress line, for `done` bytes of `total` (null: not known, such as a compressed
 * input) and `events` written, `seconds` into the run.
 */
export function progressLine(done: number, total: number | null, events: number, seconds: number): string {
  const rate = seconds > 0 ? Math.round(events / seconds) : 0;
  let line = `oqfwd: ${size(done)}`;
  if (total !== null && total > 0) {
    const part = Math.min(1, done / total);
    line += ` of ${size(total)} (${Math.floor(part * 100)}%)`;
    const speed = seconds > 0 ? done / seconds : 0;
    if (speed > 0 && done < total) line += `, ${duration((total - done) / speed)} left`;
  }
  return line + `, ${rate.toLocaleString('en-US')} events/s`;
}

/**
 * --progress: one line on stderr drawn again every {@link PROGRESS_MS}. On a terminal it is
 * drawn over itself and erased at the end, and any other message erases it first (see
 * {@link erase}); elsewhere (forced with --progress) it is a plain line each second.
 */
export class Progress {
  private timer: NodeJS.Timeout | null = null;
  private shown = false;
  private readonly started = Date.now();
  private lastPlain = 0;

  /**
   * @param write writes to stderr
   * @param total the inputs' bytes, or null when not known
   * @param terminal stderr is a terminal
   */
  constructor(
    private readonly write: (text: string) => void,
    private readonly source: ProgressSource,
    private readonly total: number | null,
    private readonly terminal: boolean,
  ) {}

  /** Draws the line now (a run shorter than one interval shows it too), then every interval. */
  start(): void {
    this.draw();
    this.timer = setInterval(() => this.draw(), PROGRESS_MS);
    this.timer.unref();
  }

  private draw(): void {
    const now = Date.now();
    const line = progressLine(this.source.bytes(), this.total, this.source.events(), (now - this.started) / 1000);
    if (this.terminal) {
      this.write('\r\x1b[K' + line);
      this.shown = true;
    } else if (now - this.lastPlain >= 1000) {
      this.lastPlain = now;
      this.write(line + '\n');
    }
  }

  /** Another message is about to be written: on a terminal, the progress line goes first. */
  erase(): void {
    if (!this.shown) return;
    this.shown = false;
    this.write('\r\x1b[K');
  }

  /** The run ended: no more drawing, and the line is gone. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.erase();
  }
}

/**
 * The bytes the inputs hold from where each is read, or null when that is not known: standard
 * input, anything but a regular file, or a compressed file (its text is longer than it).
 */
export async function inputBytes(files: Array<string | Source>): Promise<number | null> {
  let total = 0;
  for (const f of files) {
    const source = typeof f === 'string' ? { path: f } : f;
    if (source.path === '-') return null;
    try {
      // stat before open: opening a FIFO without a writer would wait for one.
      const st = await stat(source.path);
      if (!st.isFile()) return null;
      const fh = await open(source.path, 'r');
      try {
        const head = Buffer.alloc(4);
        const { bytesRead } = await fh.read(head, 0, 4, 0);
        if (compressionOf(head.subarray(0, bytesRead)) !== 'none') return null;
      } finally {
        await fh.close();
      }
      total += Math.max(0, st.size - (source.start?.offset ?? 0));
    } catch {
      // Not readable: it is reported when it is read, and holds no bytes to wait for.
    }
  }
  return total;
}
