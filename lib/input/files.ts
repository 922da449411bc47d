import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { decompressed } from './archive.js';

/**
 * What an input stage hands to the converter: the start of an input, its bytes, its end.
 * Any source (files, stdin, a followed file) that yields these can feed oqfwd.
 */
export type InputItem =
  /** `live`: the source can pause for a while and go on (stdin, a followed file). */
  | { type: 'open'; name: string; live: boolean }
  | { type: 'data'; data: Buffer }
  | { type: 'close' };

/** Name used in reports for standard input. */
export const STDIN_NAME = '<stdin>';

/** Bytes read from a file at a time: fewer, larger reads leave less time waiting on each. */
export const READ_CHUNK = 128 * 1024;

/** Files (and `-`, standard input) read one after the other. */
export interface FileInputOptions {
  /** Paths; `-` is standard input. */
  files: string[];
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
  let current: Readable | null = null;
  const stdin = opts.stdin ?? process.stdin;

  async function* items(): AsyncGenerator<InputItem> {
    for (const path of opts.files) {
      if (stopped) return;
      const isStdin = path === '-';
      const name = isStdin ? STDIN_NAME : path;
      let stream: Readable;
      if (isStdin) {
        stream = stdin;
      } else {
        try {
          const fh = await open(path, 'r');
          stream = fh.createReadStream({ highWaterMark: READ_CHUNK });
        } catch (err) {
          opts.onError(name, describeError(err));
          continue;
        }
      }
      current = stream;
      yield { type: 'open', name, live: isStdin };
      // Only errors of the stream itself are read errors: an error thrown in at a yield
      // (the pipeline tearing down) must go on up.
      // gzip and zstd archives are read as the text they hold, told by their first bytes.
      const chunks = decompressed(stream as AsyncIterable<Buffer>);
      try {
        for (;;) {
          let next: IteratorResult<Buffer>;
          try {
            next = await chunks.next();
          } catch (err) {
            if (!stopped) opts.onError(name, describeError(err));
            break;
          }
          if (next.done === true) break;
          yield { type: 'data', data: next.value };
          if (stopped) break;
        }
      } finally {
        current = null;
        await chunks.return(undefined);
        if (!isStdin) stream.destroy();
      }
      yield { type: 'close' };
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
