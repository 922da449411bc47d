import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Options } from './cli.js';
import { BadInputError, ConvertStream, Converter } from './convert.js';
import { EXIT } from './exit.js';
import { fileInput } from './input.js';
import type { Paint } from './colour.js';
import { Reporter } from './report.js';
import { formatStats, newStats, type Stats } from './stats.js';

/** The process around a run: its streams and environment, injectable for tests. */
export interface Io {
  stdin: Readable;
  stdout: Writable;
  /** Writes diagnostics (stderr). */
  stderr: (text: string) => void;
  /** Styles for stderr (see colour.ts): PLAIN unless stderr is a terminal. */
  paint: Paint;
}

/** A run under way. */
export interface Running {
  /** Settles with the exit status once every event is written. */
  done: Promise<number>;
  /** Stop reading because of `signal`, flush what was read, then settle `done`. */
  stop(signal: 'SIGINT' | 'SIGTERM'): void;
  /** The counters, live. */
  stats: Stats;
}

function isBrokenPipe(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

/** Starts the one pipeline: inputs → converter → sink. */
export function start(options: Options, io: Io): Running {
  const stats = newStats();
  const colour = io.paint;
  const reporter = new Reporter(io.stderr, colour, options.quiet);
  const input = fileInput({
    files: options.files,
    stdin: io.stdin,
    onError: (name, message) => {
      stats.filesFailed++;
      reporter.error(`${name}: ${message}`);
    },
  });
  const converter = new Converter(options, stats, reporter);
  let stoppedBy: 'SIGINT' | 'SIGTERM' | null = null;

  const done = (async (): Promise<number> => {
    let code: number = EXIT.OK;
    try {
      await pipeline(input, new ConvertStream(converter), io.stdout);
    } catch (err) {
      if (err instanceof BadInputError) {
        reporter.error(`${err.message} (--unparsed=fail)`);
        code = EXIT.BAD_LINE;
      } else if (isBrokenPipe(err)) {
        // The reader went away (`oqfwd | head`): nobody wants more output; not an error.
        input.destroy();
      } else {
        reporter.error(`cannot write output: ${(err as Error).message}`);
        code = EXIT.OUTPUT;
      }
    }
    if (code === EXIT.OK) {
      if (stoppedBy !== null) code = EXIT[stoppedBy];
      else if (stats.filesFailed > 0) code = EXIT.INPUT;
    }
    if (options.stats) io.stderr(formatStats(stats, (s) => colour.cyan(s)));
    return code;
  })();

  return {
    done,
    stats,
    stop(signal) {
      if (stoppedBy === null) stoppedBy = signal;
      input.stop();
    },
  };
}
