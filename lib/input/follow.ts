import { fstatSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Readable } from 'node:stream';
import { describeError, READ_CHUNK, sourceItems, type Input, type InputItem, type SourceControl, type Start } from './files.js';
import { FINGERPRINT_BYTES, firstLook, sameFile, type FileId } from './identity.js';
import { between, plan } from './resume.js';
import type { Saved } from './state.js';

/** Where a followed file with no saved position is read from. */
export type From = 'beginning' | 'end';

/** One name followed like `tail -F`. */
export interface FollowOptions {
  /** The path followed; whatever file is at it (through symlinks) is read. */
  path: string;
  /**
   * Where the file followed is now, when that is not one fixed path (the newest of a family
   * of files); null while there is none. Default: always `path`.
   */
  locate?: () => Promise<string | null>;
  /** Where the file found at the start is read from; files that appear later are read whole. Default 'beginning'. */
  from: From;
  /**
   * How often the name is checked without a change event, ms. Polling alone is correct
   * (fs.watch only makes it sooner). Default {@link POLL_MS}.
   */
  pollMs?: number;
  /** An input that cannot be opened or read (reported once per kind of failure; it is retried). */
  onError: (name: string, message: string) => void;
  /** Something the operator should know that loses nothing (a truncation). */
  onNotice: (name: string, message: string) => void;
  /** The state key the position is kept under (--state). Default: not kept. */
  key?: string;
  /** What the state file said of the name: where to go on. Default: nothing (`from` decides). */
  saved?: Saved;
  /**
   * The name's older files, oldest first: where the saved file is looked for, and where a
   * file that was at the name only between two looks is found. Default: none.
   */
  older?: () => Promise<string[]>;
}

/** Default --follow polling interval: an idle forwarder wakes once a second. */
export const POLL_MS = 1000;

/**
 * Bytes of a file's start compared at each check, to notice it was truncated and written
 * again; they are its fingerprint in the state too.
 */
const HEAD = FINGERPRINT_BYTES;

/** How long a file that left its name is still read for writes that were under way, ms. */
const REPLACED_GRACE_MS = 250;

/** How far back --from end looks for the start of the line being written at the end. */
const LINE_BACK = 1024 * 1024;

/**
 * Where the last line of a file of `size` bytes starts (after its last `\n`), so that
 * --from end reads a line still being written whole; `size` itself if none is near.
 */
async function lineStart(fh: FileHandle, size: number): Promise<number> {
  const from = Math.max(0, size - LINE_BACK);
  const tail = Buffer.alloc(size - from);
  const { bytesRead } = await fh.read(tail, 0, tail.length, from);
  const nl = tail.subarray(0, bytesRead).lastIndexOf(10);
  if (nl !== -1) return from + nl + 1;
  return from === 0 ? 0 : size;
}

interface Opened {
  /** The path it was opened at. */
  path: string;
  fh: FileHandle;
  /** Its device, inode and first bytes (up to HEAD: from the open, then as the file grows). */
  id: FileId;
  /** Where the next read starts. */
  pos: number;
  /** Where reading began: its offset, and the lines before it when known. */
  start: Start;
}

/**
 * Follows `opts.path` by name: each file found at it becomes one input (open, data, close).
 * When the name is renamed away, deleted or re-pointed (a symlink), the old file is read to
 * its end and closed, then the new one is read from its start. When the file shrinks, or its
 * first bytes change (logrotate's copytruncate), it is read again from its start and a notice
 * says so. A last line without its `\n` stays in the converter until the rest comes: only
 * a file that was replaced, or a stop, ends it.
 */
export function followInput(opts: FollowOptions): Input {
  const name = opts.path;
  const locate = opts.locate ?? (() => Promise.resolve(name));
  const pollMs = opts.pollMs ?? POLL_MS;
  let stopped = false;
  let wake: (() => void) | null = null;
  let watcher: FSWatcher | null = null;
  /** The last failure reported, so that a file missing for an hour is said once. */
  let lastError = '';

  const poke = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };

  function startWatching(): void {
    try {
      // The directory, not the file: renames and creations of the name show there too.
      // Any name that starts like it: its rotated siblings, a family of files (INFO.*).
      watcher = watch(dirname(name), { persistent: false }, (_event, file) => {
        if (file === null || file.startsWith(basename(name))) poke();
      });
      watcher.on('error', () => {
        watcher?.close();
        watcher = null;
      });
    } catch {
      watcher = null; // polling alone
    }
  }

  /** Until something may have changed: a change event, the poll interval, or a stop. */
  function changed(): Promise<void> {
    if (stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(poke, pollMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  function failed(err: unknown): void {
    const message = describeError(err);
    if (message === lastError) return;
    lastError = message;
    opts.onError(name, message);
  }

  /** The file at the name was not the saved one after all: rotated while the plan was made. */
  let mismatch = false;

  /**
   * The file at the name, read from `from`: the beginning, its end, or a saved position
   * (then it must be the saved file: null, and `mismatch` set, when it is not).
   */
  async function openAt(from: From | Start): Promise<Opened | null> {
    const path = await locate();
    if (path === null) return null;
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') failed(err); // a missing name is waited for without a word
      return null;
    }
    try {
      // Its first bytes: to tell an archive, and to notice later that they were written over
      // (a directory fails here, EISDIR).
      const { stats, id, archive } = await firstLook(fh);
      // An archive is read whole, never tailed as text (a glob that caught osquery's .zst).
      if (archive !== null) throw new Error(`a ${archive} archive: archives are read whole without --follow, not followed`);
      lastError = '';
      const size = Number(stats.size);
      let start: Start = { offset: 0, line: 0 };
      if (from === 'end') start = { offset: await lineStart(fh, size), line: 0 };
      else if (from !== 'beginning') {
        if (opts.saved !== undefined && sameFile(opts.saved.file, id) !== 'inode') {
          // Rotated since the plan was made: make it again.
          mismatch = true;
          await fh.close();
          return null;
        }
        if (size >= from.offset) start = from;
        else opts.onNotice(name, `file truncated since the last run (${size} bytes, ${from.offset} were delivered); reading it from its start`);
      }
      return { path, fh, id, pos: start.offset, start };
    } catch (err) {
      await fh.close().catch(() => {});
      failed(err);
      return null;
    }
  }

  // Reads go into one buffer; a small read (a line or two: the usual append) is copied out,
  // so that the converter holding a partial line does not pin 128 KiB for each.
  let buf = Buffer.allocUnsafe(READ_CHUNK);

  /** The next bytes of `f`, or null at its end for now. */
  async function read(f: Opened): Promise<Buffer | null> {
    const { bytesRead } = await f.fh.read(buf, 0, READ_CHUNK, f.pos);
    if (bytesRead === 0) return null;
    if (f.pos < HEAD && f.id.head.length === f.pos) f.id.head = Buffer.concat([f.id.head, buf.subarray(0, Math.min(bytesRead, HEAD - f.pos))]);
    f.pos += bytesRead;
    if (bytesRead < READ_CHUNK / 4) return Buffer.from(buf.subarray(0, bytesRead));
    const data = buf.subarray(0, bytesRead);
    buf = Buffer.allocUnsafe(READ_CHUNK);
    return data;
  }

  /**
   * What became of `f` since it was read to its end. An idle follower does this once a
   * poll: a stat of the name and of the open file, done in place (sync: a local stat takes
   * microseconds, a round trip through libuv's thread pool costs more than the stat).
   */
  async function look(f: Opened): Promise<'same' | 'grown' | 'truncated' | 'replaced'> {
    if (!(await stillAtName(f))) return 'replaced';
    const st = fstatSync(f.fh.fd);
    if (st.size < f.pos) return 'truncated';
    if (st.size === f.pos) return 'same';
    // Grown; or cut to nothing and written again past where we were (copytruncate).
    const head = f.id.head;
    if (head.length > 0 || st.size > 0) {
      const now = Buffer.alloc(Math.min(HEAD, st.size));
      const n = readSync(f.fh.fd, now, 0, now.length, 0);
      if (n < head.length || !now.subarray(0, head.length).equals(head)) return 'truncated';
      // A file shorter than HEAD when opened: its fingerprint grows with it.
      if (n > head.length) f.id.head = now.subarray(0, n);
    }
    return 'grown';
  }

  /** True while the name still leads to `f` (not renamed away, deleted or re-pointed). */
  async function stillAtName(f: Opened): Promise<boolean> {
    try {
      const path = await locate();
      if (path === null) return false;
      const st = statSync(path, { bigint: true });
      return String(st.ino) === f.id.ino && String(st.dev) === f.id.dev;
    } catch {
      return false;
    }
  }

  const control: SourceControl = { stopped: () => stopped, reading: () => {}, onError: opts.onError };

  /** The file read last at the name (or after it, among its older files): what came after it is read next. */
  let last: FileId | null = null;

  /**
   * Where the name's first file is read from: with a saved position, after the older
   * files that rotation left unread (read here first), where the state says; else `from`.
   */
  async function* resumed(): AsyncGenerator<InputItem, From | Start> {
    if (opts.key === undefined || opts.saved === undefined) return opts.from;
    const p = await plan(opts.key, opts.saved, await locate(), (await opts.older?.()) ?? []);
    if (p.lost !== null) opts.onError(name, p.lost);
    if (p.notice !== null) opts.onNotice(name, p.notice);
    for (const source of p.before) {
      if (stopped) break;
      yield* sourceItems(source, control);
    }
    last = p.last;
    return p.live;
  }

  /**
   * The files that were at the name after the one read last, only between two looks (now
   * among the older files), less `except`, the file at the name now: read whole, before it.
   */
  async function* inBetween(except: FileId | null): AsyncGenerator<InputItem> {
    if (last === null || opts.older === undefined || stopped) return;
    const b = await between(last, await opts.older(), except, name);
    if (b.notice !== null) opts.onNotice(name, b.notice);
    for (const x of b.files) {
      if (stopped) return;
      yield* sourceItems({ path: x.path, ...(opts.key !== undefined && { key: opts.key }) }, control);
      last = x.id;
    }
  }

  async function* items(): AsyncGenerator<InputItem> {
    startWatching();
    try {
      let from: From | Start = yield* resumed();
      while (!stopped) {
        const f = await openAt(from);
        if (mismatch) {
          mismatch = false;
          from = yield* resumed();
          continue;
        }
        // Only the file found at the start may be read from its end or a saved position:
        // any that appears at the name later is new, and read whole.
        from = 'beginning';
        if (f === null) {
          await changed();
          continue;
        }
        // A new file at the name: any that came between it and the one read last, first.
        yield* inBetween(f.id);
        last = null;
        // Reports name the file itself where the name is a family of files.
        const shown = opts.locate === undefined ? name : f.path;
        const opening = (): InputItem => ({
          type: 'open',
          name: shown,
          live: true,
          ...(f.start.offset > 0 && { start: f.start }),
          ...(opts.key !== undefined && { track: { key: opts.key, file: f.id, path: f.path } }),
        });
        yield opening();
        let leave = false;
        /** When a replaced file is finished, if nothing more is written to it. */
        let graceUntil: number | undefined;
        try {
          for (;;) {
            let data: Buffer | null;
            try {
              data = await read(f);
            } catch (err) {
              failed(err);
              break;
            }
            if (data !== null) {
              yield { type: 'data', data };
              if (stopped) break;
              continue;
            }
            if (stopped) break;
            // At the end for now: wait until something became of the file.
            let what = await look(f).catch(() => 'replaced' as const);
            while (what === 'same' && !stopped) {
              await changed();
              what = await look(f).catch(() => 'replaced' as const);
            }
            if (stopped) break;
            if (what === 'grown') continue;
            if (what === 'replaced') {
              // Renamed, deleted or re-pointed: still read for REPLACED_GRACE_MS (or the poll
              // interval, if shorter) once seen gone. A writer that opened it before the
              // rename may still write to it: osquery opens, writes and closes per line, so
              // such a line lands in .1 a moment later.
              const rest = await read(f).catch(() => null);
              if (rest !== null) {
                yield { type: 'data', data: rest };
                continue;
              }
              graceUntil ??= Date.now() + Math.min(pollMs, REPLACED_GRACE_MS);
              if (Date.now() < graceUntil && !stopped) {
                await changed();
                continue;
              }
              break;
            }
            opts.onNotice(shown, 'file truncated; reading it again from its start');
            // Lines of the old content the converter still holds end here.
            yield { type: 'close' };
            f.pos = 0;
            f.start = { offset: 0, line: 0 };
            f.id = { ...f.id, head: Buffer.alloc(0) };
            yield opening();
          }
          // Stopped with --state: the file goes on in the next run, from where it was delivered.
          leave = stopped && opts.key !== undefined;
        } finally {
          await f.fh.close().catch(() => {});
        }
        yield leave ? { type: 'close', leave: true } : { type: 'close' };
        // Replaced: files that were at the name after it, only between two looks, now (and
        // again once a new file is found, for any that came and went meanwhile).
        last = f.id;
        yield* inBetween(null);
      }
    } finally {
      watcher?.close();
    }
  }

  const readable = Readable.from(items(), { objectMode: true, highWaterMark: 2 }) as Input;
  readable.stop = () => {
    stopped = true;
    poke();
  };
  readable.rescan = poke;
  return readable;
}
