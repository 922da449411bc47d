import { readFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Options } from './cli.js';
import { BadInputError, Converter, convertStage } from './convert.js';
import { EXIT } from './exit.js';
import { describeDestination } from './destination.js';
import { describeError, fileInput, type Input } from './input.js';
import { ConnectError, TcpSink, type TlsOptions } from './tcp-sink.js';
import type { Paint } from './colour.js';
import { Reporter } from './report.js';
import { formatStats, newStats, type Stats } from './stats.js';
import { StdoutSink } from './stdout-sink.js';

/** The process around a run: its streams and environment, injectable for tests. */
export interface Io {
  stdin: Readable;
  stdout: Writable;
  /**
   * stdout lets go of a chunk once its write completed (a file, pipe, terminal or socket;
   * not a PassThrough), so chunks written to it can be reused. Default false.
   */
  stdoutReleases?: boolean;
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

/** On SIGINT or SIGTERM, how long a TCP sink may take to deliver what was read. */
export const FLUSH_DEADLINE_MS = 5000;

/** A --tls-* file that cannot be read: a usage error. */
class OptionFileError extends Error {}

async function readOption(name: string, path: string | undefined): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path);
  } catch (err) {
    throw new OptionFileError(`${name} ${path}: ${describeError(err)}`);
  }
}

async function tlsOptions(o: Options): Promise<TlsOptions> {
  const t: TlsOptions = { insecure: o.tlsInsecure };
  const ca = await readOption('--tls-ca', o.tlsCa);
  const cert = await readOption('--tls-cert', o.tlsCert);
  const key = await readOption('--tls-key', o.tlsKey);
  if (ca) t.ca = ca;
  if (cert) t.cert = cert;
  if (key) t.key = key;
  if (o.tlsServername !== undefined) t.servername = o.tlsServername;
  return t;
}

/** Starts the one pipeline: inputs → converter → sink. */
export function start(options: Options, io: Io): Running {
  const stats = newStats();
  const colour = io.paint;
  const reporter = new Reporter(io.stderr, colour, options.quiet);
  const converter = new Converter(options, stats, reporter);
  let input: Input | null = null;
  let tcp: TcpSink | null = null;
  let stoppedBy: 'SIGINT' | 'SIGTERM' | null = null;
  let gaveUp = false;
  let deadline: NodeJS.Timeout | null = null;

  const done = (async (): Promise<number> => {
    let code: number = EXIT.OK;
    try {
      let sink: Writable = io.stdoutReleases === true ? new StdoutSink(io.stdout, (b) => converter.recycle(b)) : io.stdout;
      const dest = options.output;
      if (dest.kind === 'tcp') {
        if (dest.tls && options.tlsInsecure) reporter.warn(`--tls-insecure: the certificate of ${describeDestination(dest)} is not verified`, true);
        tcp = new TcpSink({
          host: dest.host,
          port: dest.port,
          tls: dest.tls ? await tlsOptions(options) : null,
          connectTimeoutMs: options.connectTimeoutMs,
          stallTimeoutMs: options.stallTimeoutMs,
          replayBytes: options.replayBytes,
          notify: (message) => reporter.warn(message),
          written: (b) => converter.recycle(b),
        });
        sink = tcp;
        // Connect before reading: a one-shot run to a receiver that is not there reads nothing.
        await tcp.open();
      }
      // A signal while connecting: nothing was read, so there is nothing to flush.
      if (stoppedBy === null) {
        input = fileInput({
          files: options.files,
          stdin: io.stdin,
          onError: (name, message) => {
            stats.filesFailed++;
            reporter.error(`${name}: ${message}`);
          },
        });
        await pipeline(input, convertStage(converter), sink);
      } else {
        tcp?.destroy();
      }
    } catch (err) {
      if (err instanceof BadInputError) {
        reporter.error(`${err.message} (--unparsed=fail)`);
        code = EXIT.BAD_LINE;
      } else if (err instanceof OptionFileError) {
        reporter.error(err.message);
        code = EXIT.USAGE;
      } else if (gaveUp) {
        const unsure = tcp === null ? 0 : tcp.counters.eventsSent - tcp.deliveredEvents;
        reporter.error(`gave up delivering after ${FLUSH_DEADLINE_MS / 1000} s: up to ${unsure} events may not have arrived`);
      } else if (stoppedBy !== null && err instanceof ConnectError) {
        // Stopped while connecting: nothing was read, nothing is lost.
      } else if (err instanceof ConnectError) {
        reporter.error(err.message);
        code = EXIT.CONNECT;
      } else if (isBrokenPipe(err)) {
        // The reader went away (`oqfwd | head`): nobody wants more output; not an error.
        input?.destroy();
      } else {
        reporter.error(`cannot write output: ${(err as Error).message}`);
        code = EXIT.OUTPUT;
      }
    }
    if (deadline !== null) clearTimeout(deadline);
    if (code === EXIT.OK) {
      if (stoppedBy !== null) code = EXIT[stoppedBy];
      else if (stats.filesFailed > 0) code = EXIT.INPUT;
    }
    if (options.stats) io.stderr(formatStats(stats, (s) => colour.cyan(s), tcp?.counters));
    return code;
  })();

  return {
    done,
    stats,
    stop(signal) {
      if (stoppedBy !== null) return;
      stoppedBy = signal;
      if (input !== null) input.stop();
      else tcp?.destroy(new ConnectError('stopped')); // still connecting: nothing read yet
      if (tcp !== null) {
        const sink = tcp;
        deadline = setTimeout(() => {
          gaveUp = true;
          sink.destroy(new Error('flush deadline'));
        }, FLUSH_DEADLINE_MS);
      }
    },
  };
}
