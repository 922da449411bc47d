import { Transform, type TransformCallback } from 'node:stream';
import type { InputItem } from './input.js';
import { quote, splitConcatenated } from './json-raw.js';
import { LineSplitter, type LineHandler } from './lines.js';
import { classify, encodeRecord, encodeRows } from './record.js';
import type { Reporter } from './report.js';
import type { Stats } from './stats.js';
import { unwrapSyslog } from './syslog.js';

/** What to do with a line that is not an osquery line. */
export type UnparsedMode = 'forward' | 'drop' | 'fail';

/** How lines become events. */
export interface ConvertOptions {
  /** One event per row of batch and snapshot lines. Default false. */
  flatten: boolean;
  /** Unparsed lines: forwarded as `kind: unparsed` events, dropped, or fatal. Default 'forward'. */
  unparsed: UnparsedMode;
  /** Longest line read, in bytes; longer ones are reported and skipped. Default 64 MiB. */
  maxLine: number;
}

/** A line that --unparsed=fail makes fatal. */
export class BadInputError extends Error {
  constructor(
    readonly file: string,
    readonly lineNo: number,
    readonly reason: string,
  ) {
    super(`${file}:${lineNo}: ${reason}`);
  }
}

/**
 * Turns lines into NDJSON events. It knows nothing of where bytes come from or go to:
 * feed it with {@link Converter.open}, {@link Converter.data} and {@link Converter.close}
 * and take the text with {@link Converter.take}.
 */
export class Converter implements LineHandler {
  private out = '';
  private file = '';
  private splitter: LineSplitter;
  private fatal: BadInputError | null = null;

  constructor(
    private readonly opts: ConvertOptions,
    private readonly stats: Stats,
    private readonly reporter: Reporter,
  ) {
    this.splitter = new LineSplitter(opts.maxLine);
  }

  /** A new input begins; `name` is how reports refer to it. */
  open(name: string): void {
    this.file = name;
    this.splitter = new LineSplitter(this.opts.maxLine);
    this.stats.files++;
  }

  data(chunk: Buffer): void {
    this.splitter.push(chunk, this);
  }

  /** The input ended: its last line, even without `\n`, is converted now. */
  close(): void {
    this.splitter.end(this);
    this.reporter.endInput(this.file);
  }

  /** The line that must stop the run (--unparsed=fail), once there is one. */
  get failure(): BadInputError | null {
    return this.fatal;
  }

  /** The events made since the last call, as NDJSON text. */
  take(): string {
    const text = this.out;
    this.out = '';
    return text;
  }

  line(text: string, lineNo: number, badUtf8: boolean): void {
    if (this.fatal) return;
    if (badUtf8) {
      this.stats.badUtf8++;
      this.reporter.line(this.file, lineNo, 'invalid UTF-8 replaced by U+FFFD');
    }
    let start = 0;
    let c = text.charCodeAt(0);
    while (c === 32 || c === 9) c = text.charCodeAt(++start);
    if (c === 123) {
      this.json(text, start, lineNo);
    } else if (c !== c) {
      this.stats.linesBlank++; // NaN: past the end, nothing but blanks
    } else {
      this.text(text, lineNo);
    }
  }

  overlong(lineNo: number, bytes: number): void {
    this.stats.linesSkipped++;
    const reason = `line of ${bytes} bytes longer than --max-line ${this.opts.maxLine}, skipped`;
    if (this.opts.unparsed === 'fail') this.fatal = new BadInputError(this.file, lineNo, reason);
    else this.reporter.line(this.file, lineNo, reason);
  }

  /** A line that starts with `{`, at `start`. */
  private json(text: string, start: number, lineNo: number): void {
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch (err) {
      const parts = splitConcatenated(text);
      if (parts) {
        this.concatenated(text, parts, lineNo);
        return;
      }
      this.unparsed(text, lineNo, 'invalid JSON: ' + shorten((err as Error).message));
      return;
    }
    this.record(text, start, o as Record<string, unknown>, lineNo);
  }

  private record(text: string, start: number, o: Record<string, unknown>, lineNo: number): void {
    const kind = classify(o);
    const stats = this.stats;
    switch (kind) {
      case null:
        this.unparsed(text, lineNo, 'JSON object is not an osquery record');
        return;
      case 'result':
        stats.linesResult++;
        break;
      case 'status':
        stats.linesStatus++;
        break;
      case 'batch':
      case 'snapshot':
        if (kind === 'batch') stats.linesBatch++;
        else stats.linesSnapshot++;
        // A snapshot *row* (osquery's snapshot event format) has no rows to flatten.
        if (this.opts.flatten && (kind === 'batch' || o.snapshot !== undefined)) {
          const { text: events, rows } = encodeRows(text, start, kind);
          if (rows === 0) stats.emptyRecords++;
          stats.events += rows;
          stats.rowEvents += rows;
          this.out += events;
          return;
        }
        break;
    }
    this.out += encodeRecord(text, start, o, kind);
    stats.events++;
  }

  /** `{…}{…}` on one line (osquery 1.7): each object is converted on its own. */
  private concatenated(text: string, parts: number[], lineNo: number): void {
    for (let i = 0; i < parts.length; i += 2) {
      const piece = text.slice(parts[i], parts[i + 1]);
      let o: unknown;
      try {
        o = JSON.parse(piece);
      } catch (err) {
        this.unparsed(piece, lineNo, 'invalid JSON: ' + shorten((err as Error).message));
        continue;
      }
      this.record(piece, 0, o as Record<string, unknown>, lineNo);
    }
  }

  /** A line that does not start with `{`: a syslog-wrapped line, or not ours. */
  private text(text: string, lineNo: number): void {
    const wrapped = unwrapSyslog(text);
    if (wrapped !== null && text.charCodeAt(wrapped.offset) === 123) {
      this.json(text.slice(wrapped.offset), 0, lineNo);
      return;
    }
    this.unparsed(text, lineNo, isJson(text) ? 'JSON value is not an object' : 'not an osquery line');
  }

  private unparsed(text: string, lineNo: number, reason: string): void {
    this.stats.linesUnparsed++;
    if (this.opts.unparsed === 'fail') {
      this.fatal = new BadInputError(this.file, lineNo, reason); // reported once, as the fatal error
      return;
    }
    this.reporter.line(this.file, lineNo, reason);
    switch (this.opts.unparsed) {
      case 'drop':
        this.stats.dropped++;
        return;
      case 'forward':
        this.out += `{"kind":"unparsed","file":${quote(this.file)},"line":${lineNo},"reason":${quote(reason)},"raw":${quote(text)}}\n`;
        this.stats.events++;
    }
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function shorten(message: string): string {
  return message.length > 120 ? message.slice(0, 117) + '...' : message;
}

/**
 * The converter as the middle stage of the pipeline: input items in, NDJSON text out,
 * one push per input chunk rather than per line.
 */
export class ConvertStream extends Transform {
  constructor(private readonly converter: Converter) {
    super({ writableObjectMode: true, readableObjectMode: false, writableHighWaterMark: 4 });
  }

  override _transform(item: InputItem, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (item.type === 'data') this.converter.data(item.data);
      else if (item.type === 'open') this.converter.open(item.name);
      else this.converter.close();
      const text = this.converter.take();
      if (text.length > 0) this.push(text);
      done(this.converter.failure);
    } catch (err) {
      done(err as Error);
    }
  }
}
