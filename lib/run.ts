import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Options } from './cli.js';
import { BadInputError, Converter, convertStage, type Mark } from './convert.js';
import { EXIT } from './exit.js';
import { describeError, fileInput, type Input, type InputItem, type Source } from './input/files.js';
import { followInput, type FollowOptions } from './input/follow.js';
import { currentInfo, history, INFO, RESULTS, rotations, SNAPSHOTS } from './input/osquery-dir.js';
import { resumedDirectory, resumedFiles } from './input/resume.js';
import { StateFile, StateInUse, stateKey } from './input/state.js';
import { Ledger } from './ledger.js';
import { merge } from './merge.js';
import { ConnectError, StoppedError, type Target } from './output/connect.js';
import { UndeliveredError, type NetworkSink } from './output/delivery.js';
import { describeDestination, type Endpoint } from './output/destination.js';
import { RelpSink } from './output/relp-sink.js';
import { StdoutSink } from './output/stdout-sink.js';
import { TcpSink } from './output/tcp-sink.js';
import { loadTls, TlsFileError, tlsFlagsGiven } from './output/tls-files.js';
import { PLAIN, type Paint } from './colour.js';
import { PrettyRenderer } from './output/pretty.js';
import { inputBytes, Progress } from './progress.js';
import { Reporter } from './report.js';
import { formatStats, newStats, type Stats } from './stats.js';

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
  /** Styles for --pretty on stdout. Default PLAIN. */
  stdoutPaint?: Paint;
  /** stderr is a terminal: --progress is shown there by default, drawn over itself. Default false. */
  stderrIsTTY?: boolean;
  /** stdout is a terminal: then --progress is not shown by default. Default false. */
  stdoutIsTTY?: boolean;
  /** stdout was closed when oqfwd started (see closedAtStart): events written there would be lost. Default false. */
  stdoutClosed?: boolean;
}

/** A run under way. */
export interface Running {
  /** Settles with the exit status once every event is written. */
  done: Promise<number>;
  /** Stop reading because of `signal`, flush what was read, then settle `done`. */
  stop(signal: 'SIGINT' | 'SIGTERM'): void;
  /** The --stats counters as they are now, as --stats prints them (SIGUSR1). */
  counters(): string;
  /** Look at every followed name again now (SIGHUP: logrotate's postrotate can send it). */
  rescan(): void;
  /** The counters, live. */
  stats: Stats;
}

/** The state file cannot be read: nothing is read either, as where to begin is unknown. */
class StateError extends Error {}

function isBrokenPipe(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

/** On SIGINT or SIGTERM, how long a network sink may take to deliver what was read. */
export const FLUSH_DEADLINE_MS = 5000;

/** The network sink for `dest`, its TLS files checked first. */
async function networkSink(dest: Endpoint, options: Options, reporter: Reporter, recycle: (b: Buffer) => void): Promise<NetworkSink> {
  const name = describeDestination(dest);
  if (dest.tls && options.tls.insecure) reporter.warn(`--tls-insecure: the certificate of ${name} is not verified`, true);
  const stray = tlsFlagsGiven(options.tls);
  if (!dest.tls && stray.length > 0) reporter.warn(`${stray.join(', ')} ignored: ${name} does not use TLS`, true);
  const target: Target = { host: dest.host, port: dest.port, tls: dest.tls ? await loadTls(options.tls) : null, name };
  const common = {
    target,
    connectTimeoutMs: options.connectTimeoutMs,
    stallTimeoutMs: options.stallTimeoutMs,
    notify: (message: string) => reporter.warn(message),
    written: recycle,
  };
  if (dest.kind === 'tcp') return new TcpSink({ ...common, replayBytes: options.replayBytes });
  return new RelpSink({ ...common, window: options.relpWindow, windowBytes: options.replayBytes, host: options.host });
}

/** Starts the one pipeline: inputs → converter → sink. */
export function start(options: Options, io: Io): Running {
  const stats = newStats();
  const colour = io.paint;
  let progress: Progress | null = null;
  /** Everything for stderr goes through here: a progress line there is erased first. */
  const say = (text: string): void => {
    progress?.erase();
    io.stderr(text);
  };
  const reporter = new Reporter(say, colour, options.quiet);
  const converter = new Converter(options, stats, reporter);
  /** Every converter: one, or one per followed name (each keeps its own lines and records). */
  const converters = [converter];
  const recycle = (b: Buffer): void => {
    for (const c of converters) c.recycle(b);
  };
  let inputs: Input[] = [];
  let net: NetworkSink | null = null;
  let ledger: Ledger | null = null;
  let opening = false;
  let stoppedBy: 'SIGINT' | 'SIGTERM' | null = null;
  let gaveUp = false;
  let deadline: NodeJS.Timeout | null = null;
  /** Events converted that the receiver has not confirmed: written and unconfirmed, or never written. */
  const missing = (): number => (net === null ? 0 : stats.events - net.counters.eventsSent + net.unconfirmed());

  const counters = (): string => {
    const sink = net as NetworkSink | null;
    return formatStats(stats, (s) => colour.cyan(s), sink === null ? undefined : { ...sink.counters, unconfirmed: missing() }, options.statsFormat);
  };

  /**
   * --progress, when asked for or by default (stderr a terminal, stdout not, inputs files of known size):
   * `files` are what a one-shot run reads; a follower ([]) has no total.
   */
  const showProgress = async (files: Array<string | Source>): Promise<void> => {
    // By default only where it disturbs nothing: events going to a terminal would be torn by it.
    if (options.progress === false || (options.progress === null && (io.stderrIsTTY !== true || io.stdoutIsTTY === true || options.quiet))) return;
    const total = options.follow ? null : await inputBytes(files);
    if (options.progress === null && total === null) return;
    const source = { bytes: () => converters.reduce((n, c) => n + c.bytesIn, 0), events: () => stats.events };
    progress = new Progress(io.stderr, source, total, io.stderrIsTTY === true);
    progress.start();
  };

  const stopProgress = (): void => {
    progress?.stop();
    progress = null;
  };

  const done = (async (): Promise<number> => {
    let code: number = EXIT.OK;
    let state: StateFile | null = null;
    try {
      // Before anything is read: every event would vanish, and a state file would advance on it.
      if (options.output.kind === 'stdout' && io.stdoutClosed === true) {
        throw new Error('standard output is closed (Node gave it /dev/null opened for reading and writing): the events would be lost; send them with -o, or discard them on purpose with > /dev/null');
      }
      if (options.state !== null) {
        try {
          state = await StateFile.load(options.state, (message) => reporter.warn(message, true));
        } catch (err) {
          throw new StateError(`--state ${options.state}: ${err instanceof StateInUse ? err.message : describeError(err)}`);
        }
      }
      let stdoutSink: StdoutSink | null = null;
      if (options.pretty) {
        // The target gets text made from each chunk, never the chunk: it is free once rendered.
        const pretty = new PrettyRenderer(io.stdoutPaint ?? PLAIN);
        stdoutSink = new StdoutSink(io.stdout, recycle, (chunk) => pretty.render(chunk));
      } else if (state !== null || io.stdoutReleases === true) {
        stdoutSink = new StdoutSink(io.stdout, io.stdoutReleases === true ? recycle : null);
      }
      let sink: Writable = stdoutSink ?? io.stdout;
      const dest = options.output;
      if (dest.kind !== 'stdout') {
        net = await networkSink(dest, options, reporter, recycle);
        sink = net;
        // Connect before reading: a one-shot run to a receiver that is not there reads nothing.
        if (stoppedBy !== null) throw new StoppedError('stopped');
        opening = true;
        await net.open();
        opening = false;
        if (stoppedBy !== null) {
          net.destroy();
          throw new StoppedError('stopped');
        }
      }
      const onError = (name: string, message: string): void => {
        stats.filesFailed++;
        reporter.error(`${name}: ${message}`);
      };
      const onNotice = (name: string, message: string): void => reporter.warn(`${name}: ${message}`);
      // With --state, the events' positions ride along to the sink and are saved once delivered.
      const delivered = net !== null ? (net as NetworkSink).delivered.bind(net) : () => stdoutSink!.delivered();
      if (state !== null) ledger = new Ledger(state, delivered, (err) => reporter.error(`--state ${options.state}: cannot save: ${describeError(err)} (trying again)`));
      const marked = ledger?.stage();
      const toSink = (events: AsyncIterable<Buffer | Mark>): AsyncIterable<Buffer> => (marked === undefined ? (events as AsyncIterable<Buffer>) : marked(events));
      if (state !== null && options.osqueryDir === null && options.files.includes('-')) reporter.warn('--state keeps no position for standard input', true);
      const osqueryDir = options.osqueryDir;
      if (!options.follow) {
        let files: Array<string | Source> = options.files;
        if (osqueryDir !== null) {
          // The directory's history, each log oldest first.
          let all: string[] = [];
          try {
            all = await history(osqueryDir);
          } catch (err) {
            onError(osqueryDir, describeError(err));
          }
          if (all.length === 0 && stats.filesFailed === 0) onError(osqueryDir, 'no osquery logs in it');
          // With --state, each log from where the last run left it.
          files = state !== null && all.length > 0 ? await resumedDirectory(state, osqueryDir, onError, onNotice) : all;
        } else if (state !== null) {
          files = await resumedFiles(state, options.files, onError, onNotice);
        }
        await showProgress(files);
        const input = fileInput({ files, stdin: io.stdin, onError });
        inputs = [input];
        if (stoppedBy !== null) input.stop(); // a signal while the state or the directory was read
        await pipeline(input, (items: AsyncIterable<InputItem>) => toSink(convertStage(converter)(items)), sink);
      } else {
        // Each name followed on its own, with a converter of its own; their events merge.
        const follow = (path: string, locate?: FollowOptions['locate']): Input => {
          const key = stateKey(path);
          const saved = state?.get(key);
          return followInput({
            path,
            ...(locate !== undefined && { locate }),
            from: options.from,
            pollMs: options.pollMs,
            onError,
            onNotice,
            older: () => rotations(path),
            ...(state !== null && { key }),
            ...(saved !== undefined && { saved }),
          });
        };
        if (osqueryDir !== null) {
          // The live logs; the status log through its symlink, or its newest file.
          inputs = [follow(join(osqueryDir, RESULTS)), follow(join(osqueryDir, SNAPSHOTS)), follow(join(osqueryDir, INFO), () => currentInfo(osqueryDir))];
        } else {
          inputs = options.files.map((path) => (path === '-' ? fileInput({ files: ['-'], stdin: io.stdin, onError }) : follow(path)));
        }
        if (options.progress === true) await showProgress([]);
        if (stoppedBy !== null) for (const input of inputs) input.stop(); // a signal while the state was read
        while (converters.length < inputs.length) converters.push(new Converter(options, stats, reporter));
        await pipeline(toSink(merge(inputs.map((input, i) => convertStage(converters[i]!)(input)))), sink);
      }
    } catch (err) {
      if (err instanceof StateError) {
        reporter.error(err.message);
        code = EXIT.STATE;
      } else if (err instanceof BadInputError) {
        reporter.error(`${err.message} (--unparsed=fail)`);
        code = EXIT.BAD_LINE;
      } else if (err instanceof TlsFileError) {
        reporter.error(err.message);
        code = EXIT.USAGE;
      } else if (gaveUp) {
        reporter.error(`gave up delivering after ${FLUSH_DEADLINE_MS / 1000} s`);
      } else if (err instanceof StoppedError) {
        // Stopped while connecting: nothing was read, nothing is lost.
      } else if (err instanceof ConnectError) {
        reporter.error(err.message);
        code = EXIT.CONNECT;
      } else if (err instanceof UndeliveredError) {
        reporter.error(err.message);
        code = EXIT.UNDELIVERED;
      } else if (isBrokenPipe(err)) {
        // The reader went away (`oqfwd | head`): nobody wants more output; not an error.
        for (const input of inputs) input.destroy();
      } else {
        reporter.error(`cannot write output: ${(err as Error).message}`);
        code = EXIT.OUTPUT;
      }
    }
    if (deadline !== null) clearTimeout(deadline);
    stopProgress();
    if (ledger !== null) {
      try {
        await ledger.finish();
      } catch (err) {
        reporter.error(`--state ${options.state}: cannot save: ${describeError(err)}; the next run may send again what this one delivered`);
        if (code === EXIT.OK) code = EXIT.STATE;
      }
    }
    await state?.release();
    const unsure = missing();
    if (unsure > 0) {
      const sink = net as NetworkSink | null;
      const what = sink?.acknowledges ? 'were not acknowledged' : 'may not have arrived';
      reporter.error(`${unsure} of ${stats.events} events ${what} (${describeDestination(options.output)})`);
    }
    if (code === EXIT.OK) {
      if (stoppedBy !== null) code = EXIT[stoppedBy];
      else if (stats.filesFailed > 0) code = EXIT.INPUT;
    }
    if (options.stats) say(counters());
    return code;
  })();

  return {
    done,
    stats,
    counters,
    rescan() {
      for (const input of inputs) input.rescan();
    },
    stop(signal) {
      if (stoppedBy !== null) return;
      stoppedBy = signal;
      for (const input of inputs) input.stop();
      const sink = net as NetworkSink | null;
      if (sink === null) return;
      // Still connecting: nothing was read, so nothing waits to be delivered.
      if (opening) {
        sink.stop();
        return;
      }
      deadline = setTimeout(() => {
        gaveUp = true;
        sink.stop();
        sink.destroy(new Error('flush deadline'));
      }, FLUSH_DEADLINE_MS);
    },
  };
}
