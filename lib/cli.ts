import { constants } from 'node:buffer';
import { hostname } from 'node:os';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { UnparsedMode } from './convert.js';
import { POLL_MS, type From } from './input/follow.js';
import { defaultOsqueryDir } from './input/osquery-dir.js';
import { parseDestination, type Destination } from './output/destination.js';
import { DEFAULT_RELP_WINDOW } from './output/relp-sink.js';
import type { TlsFiles } from './output/tls-files.js';
import { forTerminal } from './report.js';
import { parseSize } from './size.js';
import type { StatsFormat } from './stats.js';
import { parseZone, type Zone } from './timezone.js';
import { VERSION } from './version.js';

/** Everything a run needs to know, as parsed from the command line. */
export interface Options {
  /** Inputs in order; `-` is standard input. Default: `['-']`. */
  files: string[];
  /** Keep reading the named files as they grow, through rotations, until a signal. Default false. */
  follow: boolean;
  /** The osquery log directory read instead of FILEs (--osquery-dir). Default: none. */
  osqueryDir: string | null;
  /** --follow: where a file found at the start is read from. Default 'beginning'. */
  from: From;
  /** --follow: how often names are checked without a change event, ms. Default {@link POLL_MS}. */
  pollMs: number;
  /** Where each input's delivered position is kept across runs (--state). Default: none. */
  state: string | null;
  /** One event per row of batch and snapshot lines. Default false. */
  flatten: boolean;
  /** What to do with lines that are not osquery lines. Default 'forward'. */
  unparsed: UnparsedMode;
  /** Longest line read, in bytes. Default {@link DEFAULT_MAX_LINE}. */
  maxLine: number;
  /** No per-line reports on stderr. Default false. */
  quiet: boolean;
  /** Print line and event counts on stderr at the end. Default false. */
  stats: boolean;
  /** How the counts are written: `name value` lines, or one JSON object (--stats=json). Default 'text'. */
  statsFormat: StatsFormat;
  /** Zone of glog time stamps (--tz). Default: the zone oqfwd runs in. */
  zone: Zone;
  /** hostIdentifier of status records without a glog header naming the machine. Default: os.hostname(). */
  host: string;
  /** Where events go (-o). Default: standard output. */
  output: Destination;
  /** How long an outage (or the first connection) may last before oqfwd gives up, ms; 0 is forever. Default 30 s. */
  connectTimeoutMs: number;
  /** Nothing moving for this long means a dead or stopped receiver: reconnect, ms; 0 is never. Default 60 s. */
  stallTimeoutMs: number;
  /** TCP: bytes of the latest events sent again after a reconnect; RELP: bytes unacknowledged at most. Default 16 MiB. */
  replayBytes: number;
  /** RELP: frames sent and not acknowledged, at most. Default {@link DEFAULT_RELP_WINDOW}. */
  relpWindow: number;
  /** The --tls-* options. Default: none given, verification on. */
  tls: TlsFiles;
}

/**
 * The longest --max-line: a line is held as one string while it is converted, and Node's
 * strings stop at buffer.constants.MAX_STRING_LENGTH characters (2^29 - 24 on 64-bit Node 20).
 */
export const MAX_MAX_LINE = constants.MAX_STRING_LENGTH;

function maxLineArg(value: string): number {
  const n = sizeArg(value);
  if (n > MAX_MAX_LINE) throw new InvalidArgumentError(`at most ${MAX_MAX_LINE} bytes (${Math.floor(MAX_MAX_LINE / 1024 / 1024)}M): a line is held as one string, and Node's strings are no longer`);
  return n;
}

/** Default --max-line: room for snapshots of thousands of rows (real ones reach MBs). */
export const DEFAULT_MAX_LINE = 64 * 1024 * 1024;

/** What parsing the command line came to. */
export type Parsed =
  | { kind: 'run'; options: Options }
  | { kind: 'exit'; code: number };

function sizeArg(value: string): number {
  const n = parseSize(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a size in bytes such as 65536, 64K or 64M');
  return n;
}

function destinationArg(value: string): Destination {
  try {
    return parseDestination(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** The longest wait a timer can hold (2^31 - 1 ms, about 24.8 days). */
export const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function secondsArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds');
  if (n > MAX_SECONDS) throw new InvalidArgumentError(`at most ${MAX_SECONDS} seconds (0 means no limit)`);
  return Math.round(n * 1000);
}

function pollArg(value: string): number {
  const ms = secondsArg(value);
  if (ms < 10) throw new InvalidArgumentError('expected at least 0.01 seconds');
  return ms;
}

function countArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65536) throw new InvalidArgumentError('expected a whole number from 1 to 65536');
  return n;
}

function zoneArg(value: string): Zone {
  try {
    return parseZone(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** The commander program: the one source of `--help`. */
export function program(): Command {
  return new Command('oqfwd')
    .description(
      'Read osquery result, snapshot and status logs and write one JSON event per line (NDJSON).\n' +
        'Every line is recognised by its shape; FILEs are read in order, - or none means stdin.',
    )
    .version(VERSION, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .argument('[FILE...]', 'osquery log files to read (default: - for stdin)')
    .option('-F, --follow', 'keep reading the FILEs as they grow, by name, through rotations (like tail -F)')
    .addOption(new Option('--osquery-dir [dir]', `osquery's log directory: its results, snapshots and INFO logs (default dir: ${defaultOsqueryDir()})`))
    .addOption(new Option('--from <where>', 'with --follow: read a file found at the start from its beginning or only what is added').choices(['beginning', 'end']).default('beginning'))
    .option('--state <file>', 'remember in FILE how far each input was delivered, and go on from there next time (through rotations)')
    .addOption(new Option('--poll-interval <s>', 'with --follow: check the FILEs this often without a change event').argParser(pollArg).default(POLL_MS, String(POLL_MS / 1000)))
    .option('-f, --flatten', 'one event per row of batch and snapshot lines')
    .addOption(
      new Option('--unparsed <mode>', 'lines that are not osquery lines: forward as kind "unparsed", drop, or fail')
        .choices(['forward', 'drop', 'fail'])
        .default('forward'),
    )
    .addOption(
      new Option('--max-line <bytes>', 'longest line read; a longer one is reported and skipped')
        .argParser(maxLineArg)
        .default(DEFAULT_MAX_LINE, '64M'),
    )
    .addOption(new Option('--tz <zone>', 'time zone of glog time stamps: IANA name or offset such as +01:00 (default: the local zone)').argParser(zoneArg))
    .option('--host <name>', "hostIdentifier of status lines when neither a glog header nor a syslog or journal prefix names the machine (default: this host's name)")
    .addOption(
      new Option('-o, --output <dest>', 'where events go: - (stdout), tcp://HOST:PORT, tls://HOST:PORT, relp://HOST:PORT, relp+tls://HOST:PORT or HOST:PORT')
        .argParser(destinationArg)
        .default(undefined, '-'),
    )
    .addOption(new Option('--connect-timeout <s>', 'give up when the receiver cannot be reached for this long; 0 retries forever').argParser(secondsArg).default(30000, '30'))
    .addOption(new Option('--stall-timeout <s>', 'reconnect when nothing moves for this long; 0 never does').argParser(secondsArg).default(60000, '60'))
    .addOption(new Option('--replay-window <bytes>', 'TCP: the latest events sent again after a reconnect; RELP: bytes unacknowledged at most').argParser(sizeArg).default(16 * 1024 * 1024, '16M'))
    .addOption(new Option('--relp-window <n>', 'RELP: events sent and not acknowledged, at most').argParser(countArg).default(DEFAULT_RELP_WINDOW, String(DEFAULT_RELP_WINDOW)))
    .option('--tls-ca <file>', 'CA certificates (PEM) to verify the receiver with')
    .option('--tls-cert <file>', 'client certificate (PEM), for receivers that ask for one')
    .option('--tls-key <file>', 'key (PEM) of the client certificate')
    .option('--tls-servername <name>', 'name the receiver certificate must carry (for IP destinations)')
    .option('--tls-insecure', 'do not verify the receiver certificate (warned about on stderr)')
    .option('-q, --quiet', 'do not report bad lines on stderr (they are still counted)')
    .option('--stats', 'print line and event counts on stderr at the end; --stats=json: as one JSON object')
    .showHelpAfterError("(run 'oqfwd --help' for usage)")
    .allowExcessArguments(true);
}

/** Writes text somewhere (stdout or stderr). */
export type Write = (text: string) => void;

/** The forms --stats is written in: commander cannot take a value only after `=`. */
const STATS_FORMAT = /^--stats=(.*)$/s;

/** Parses `argv` (without node and script). Help, version and usage errors are printed here. */
export function parseArgs(argv: string[], out: Write, err: Write): Parsed {
  // `--stats=json` is taken apart here: an optional value of commander's would swallow the
  // FILE after a bare `--stats`. After `--`, everything is a FILE.
  let format: StatsFormat = 'text';
  let files = false;
  const args: string[] = [];
  for (const a of argv) {
    const m = files ? null : STATS_FORMAT.exec(a);
    files ||= a === '--';
    if (m === null) {
      args.push(a);
      continue;
    }
    if (m[1] !== 'json' && m[1] !== 'text') {
      err(`oqfwd: option '--stats[=FORMAT]': FORMAT is text or json\n(run 'oqfwd --help' for usage)\n`);
      return { kind: 'exit', code: 2 };
    }
    format = m[1];
    args.push('--stats');
  }
  const cmd = program()
    .exitOverride()
    .configureOutput({
      writeOut: out,
      writeErr: err,
      // A usage error can quote argv: each of its lines shown escaped, like every report.
      outputError: (text, write) => write(text.replace(/^error: /, 'oqfwd: ').split('\n').map(forTerminal).join('\n')),
    });
  try {
    cmd.parse(args, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return { kind: 'exit', code: e.exitCode === 0 ? 0 : 2 };
    throw e;
  }
  const o = cmd.opts<{
    follow?: boolean;
    osqueryDir?: string | true;
    from: From;
    pollInterval: number;
    state?: string;
    flatten?: boolean;
    unparsed: UnparsedMode;
    maxLine: number;
    quiet?: boolean;
    stats?: boolean;
    tz?: Zone;
    host?: string;
    output?: Destination;
    connectTimeout: number;
    stallTimeout: number;
    replayWindow: number;
    relpWindow: number;
    tlsCa?: string;
    tlsCert?: string;
    tlsKey?: string;
    tlsServername?: string;
    tlsInsecure?: boolean;
  }>();
  if (o.osqueryDir !== undefined && cmd.args.length > 0) {
    err("oqfwd: --osquery-dir reads the directory's own files: no FILE arguments with it\n(run 'oqfwd --help' for usage)\n");
    return { kind: 'exit', code: 2 };
  }
  if (o.follow !== true && o.from === 'end') {
    err("oqfwd: --from end needs --follow (a one-shot run reads its files whole)\n(run 'oqfwd --help' for usage)\n");
    return { kind: 'exit', code: 2 };
  }
  return {
    kind: 'run',
    options: {
      files: cmd.args.length > 0 ? cmd.args : ['-'],
      follow: o.follow === true,
      osqueryDir: o.osqueryDir === undefined ? null : o.osqueryDir === true ? defaultOsqueryDir() : o.osqueryDir,
      from: o.from,
      pollMs: o.pollInterval,
      state: o.state ?? null,
      flatten: o.flatten === true,
      unparsed: o.unparsed,
      maxLine: o.maxLine,
      quiet: o.quiet === true,
      stats: o.stats === true,
      statsFormat: format,
      zone: o.tz ?? parseZone(undefined),
      host: o.host ?? hostname(),
      output: o.output ?? { kind: 'stdout' },
      connectTimeoutMs: o.connectTimeout,
      stallTimeoutMs: o.stallTimeout,
      replayBytes: o.replayWindow,
      relpWindow: o.relpWindow,
      tls: {
        ...(o.tlsCa !== undefined && { ca: o.tlsCa }),
        ...(o.tlsCert !== undefined && { cert: o.tlsCert }),
        ...(o.tlsKey !== undefined && { key: o.tlsKey }),
        ...(o.tlsServername !== undefined && { servername: o.tlsServername }),
        insecure: o.tlsInsecure === true,
      },
    },
  };
}
