import { closeSync, constants, openSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { decompressed } from './archive.js';
import { FINGERPRINT_BYTES, firstLook, type FileId } from './identity.js';

/** A place in an input: a byte offset at a line start, and the number of lines before it. */
export interface Start {
  offset: number;
  line: number;
}

/** An input whose position --state keeps: the name it is saved under and the file read. */
export interface Track {
  /** The state's key: the absolute path of the name given (see state.ts). */
  key: string;
  file: FileId;
  /** Where the file is read now. */
  path: string;
}

/**
 * What an input stage hands to the converter: the start of an input, its bytes, its end.
 * Any source (files, stdin, a followed file) that yields these can feed oqfwd.
 */
export type InputItem =
  /**
   * `live`: the source can pause for a while and go on (stdin, a followed file). `start`:
   * where reading begins, when not at the beginning. `track`: the position is kept (--state).
   */
  | { type: 'open'; name: string; live: boolean; start?: Start; track?: Track }
  | { type: 'data'; data: Buffer }
  /** `leave`: the input only stopped for now; a line without its `\n` is left for later. */
  | { type: 'close'; leave?: boolean };

/** One input to read: a path (`-` for stdin), from where, and whether its position is kept. */
export interface Source {
  path: string;
  /** Where to begin. Default: the beginning. */
  start?: Start;
  /** The state key its position is kept under (--state). Default: not kept. */
  key?: string;
  /** A live file read for now: a last line without `\n` is left for the next run. Default false. */
  leave?: boolean;
}

/** Name used in reports for standard input. */
export const STDIN_NAME = '<stdin>';

/** Bytes read from a file at a time: fewer, larger reads leave less time waiting on each. */
export const READ_CHUNK = 128 * 1024;

/** Files (and `-`, standard input) read one after the other. */
export interface FileInputOptions {
  /** What to read, in order: paths (`-` is standard input) or sources. */
  files: Array<string | Source>;
  /** Standard input. Default: process.stdin. */
  stdin?: Readable;
  /** Told about an input that cannot be opened or read; reading goes on with the next. */
  onError: (name: string, message: string) => void;
}

/** An input stage that can be asked to stop early (on a signal) and still end cleanly. */
export interface Input extends Readable {
  /** Stop reading: the current input is closed and the stream ends after it. */
  stop(): void;
  /** Look at every name again now, as if it had changed (SIGHUP); a no-op for plain files. */
  rescan(): void;
}

/**
 * Node decodes argv as UTF-8, so a name that is not UTF-8 arrives with U+FFFD in place of its
 * bytes and names no file: say how to read it all the same.
 */
function notUtf8Hint(path: string, err: unknown): string {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !path.includes('\uFFFD')) return '';
  return ' (if the name is not valid UTF-8: oqfwd takes names as UTF-8, so give the file on standard input, oqfwd < FILE)';
}

/** strerror-like text for the usual file errors, so reports read like cat's. */
export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'Permission denied';
    case 'EISDIR':
      return 'Is a directory';
    case 'ENOTDIR':
      return 'Not a directory';
    case 'ELOOP':
      return 'Too many levels of symbolic links';
    case 'EIO':
      return 'Input/output error';
    default:
      return e.message ?? String(err);
  }
}

export function fileInput(opts: FileInputOptions): Input {
  let stopped = false;
  let current: { destroy(): void } | null = null;
  const stdin = opts.stdin ?? process.stdin;
  const control = {
    stopped: () => stopped,
    reading: (r: { destroy(): void } | null) => (current = r),
    onError: opts.onError,
  };

  async function* items(): AsyncGenerator<InputItem> {
    for (const file of opts.files) {
      if (stopped) return;
      const source = typeof file === 'string' ? { path: file } : file;
      yield* sourceItems(source, control, stdin);
    }
  }

  const readable = Readable.from(items(), { objectMode: true, highWaterMark: 2 }) as Input;
  readable.stop = () => {
    stopped = true;
    // Wake a read that waits for data that may never come (a quiet pipe).
    current?.destroy();
  };
  readable.rescan = () => {};
  return readable;
}

/** Ends an open of the FIFO at `path` that waits for a writer (nothing else is touched). */
function endFifoWait(path: string): void {
  try {
    if (!statSync(path).isFIFO()) return;
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: nobody is opening it for reading any more
  }
}

/** Stops `stream` reading more and ends it after the data it holds. */
function endAfterBuffered(stream: Readable): void {
  stream.pause();
  // Data that a read still under way brings is refused: "push after EOF" (ignored once stopped).
  stream.on('error', () => {});
  stream.push(null);
}

/** What reading one source needs from the input stage around it. */
export interface SourceControl {
  stopped(): boolean;
  /** The stream being read now (destroyed by a stop), or null. */
  reading(stream: { destroy(): void } | null): void;
  onError: (name: string, message: string) => void;
}

/**
 * The items of one source: open, its bytes (decompressed when it is an archive), close. An
 * error opening it is reported and yields nothing; one reading it ends it where it stopped.
 * A source read from an offset: a plain file is read from there; an archive is decompressed
 * from its start and its text up to the offset passed over.
 */
export async function* sourceItems(source: Source, control: SourceControl, stdin?: Readable): AsyncGenerator<InputItem> {
  const isStdin = source.path === '-';
  const name = isStdin ? STDIN_NAME : source.path;
  const offset = source.start?.offset ?? 0;
  let stream: Readable;
  let chunks: AsyncIterator<Buffer, unknown, undefined>;
  let track: Track | undefined;
  let compressed = false;
  if (isStdin) {
    stream = stdin ?? process.stdin;
    chunks = decompressed(stream as AsyncIterable<Buffer>);
  } else {
    let fh: FileHandle;
    try {
      // Opening a FIFO waits for a writer, in a thread a stop cannot interrupt: a stop ends
      // the wait by being that writer for a moment (nothing written: the FIFO reads as empty).
      control.reading({ destroy: () => endFifoWait(source.path) });
      fh = await open(source.path, 'r');
    } catch (err) {
      control.reading(null);
      control.onError(name, describeError(err) + notUtf8Hint(source.path, err));
      return;
    }
    if (source.key !== undefined || offset > 0) {
      try {
        const { id, archive } = await firstLook(fh);
        compressed = archive !== null;
        if (source.key !== undefined) track = { key: source.key, path: source.path, file: compressed ? { ...id, head: Buffer.alloc(0) } : id };
      } catch (err) {
        await fh.close().catch(() => {});
        control.onError(name, describeError(err));
        return;
      }
    }
    // No position for a pipe or a FIFO (pread fails on them): only a plain file read from an offset has one.
    stream = fh.createReadStream({ highWaterMark: READ_CHUNK, ...(!compressed && offset > 0 && { start: offset }) });
    // Read from an offset, a plain file is known not to be an archive.
    chunks = compressed || offset === 0 ? decompressed(stream as AsyncIterable<Buffer>) : (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }
  // A stop ends a file at once; standard input ends after what it already took from the pipe
  // (its buffer): those lines left the writer and exist nowhere else.
  control.reading(isStdin ? { destroy: () => endAfterBuffered(stream) } : stream);
  let skip = compressed ? offset : 0;
  /** Chunks read before the open item: an archive's first text, its fingerprint. */
  const early: Buffer[] = [];
  let failure: unknown = null;
  /** The next chunk, or null at the end (or at a read error, kept in `failure`). */
  const next = async (): Promise<Buffer | null> => {
    if (early.length > 0) return early.shift()!;
    try {
      const r = await chunks.next();
      return r.done === true ? null : r.value;
    } catch (err) {
      failure = err;
      return null;
    }
  };
  try {
    const file = track?.file;
    if (compressed && file !== undefined) {
      // Its text's first bytes identify it, and hold the glog header a resumed file needs.
      while (file.head.length < FINGERPRINT_BYTES) {
        const c = await next();
        if (c === null) break;
        early.push(c);
        file.head = Buffer.concat([file.head, c.subarray(0, FINGERPRINT_BYTES - file.head.length)]);
      }
    }
    yield { type: 'open', name, live: isStdin, ...(source.start !== undefined && { start: source.start }), ...(track !== undefined && { track }) };
    // Only errors of the stream itself are read errors: an error thrown in at a yield
    // (the pipeline tearing down) must go on up.
    for (;;) {
      let data = await next();
      if (data === null) break;
      if (skip > 0) {
        const n = Math.min(skip, data.length);
        skip -= n;
        data = data.subarray(n);
        if (data.length === 0) continue;
      }
      yield { type: 'data', data };
      if (control.stopped() && !isStdin) break; // stdin ends by itself after what it holds
    }
    if (failure !== null && !control.stopped()) control.onError(name, describeError(failure));
  } finally {
    control.reading(null);
    await chunks.return?.(undefined);
    if (!isStdin) stream.destroy();
  }
  yield { type: 'close', ...(source.leave === true && { leave: true }) };
}
