import type { InputItem, Start, Track } from './input/files.js';
import { fromBinary, isConcatenated, isSafe, needsEscape, quote, skipSpace, skipValue, toBinary, writeQuoted, writeRange, type JsonText, type RawMember } from './json-raw.js';
import { LineBytes } from './line-bytes.js';
import { scanObjectLine, scanValue } from './json-scan.js';
import { LineSplitter, Piece, type LineHandler } from './lines.js';
import { looksLikeGlog, parseGlogHeader, parseGlogLine, dateFromFileName, type GlogLine } from './glog.js';
import { canSplice, classify, kindOf, RowWriter, stringValue, type RecordKind, type RowShape, type Shape, writeRecord } from './record.js';
import { clashes, lineFacts, NO_SHAPING, numberOf, rawOf, Shaper, textOf, type IdPart, type ShapeOptions } from './shape.js';
import { OutputBuffer } from './output-buffer.js';
import type { Reporter } from './report.js';
import type { Stats } from './stats.js';
import { writeStatus, parseSeverityText, StatusClock, type StatusRecord } from './status.js';
import { journalEntry, type JournalEntry } from './journal.js';
import { nearWrapper, unwrapSyslog, wrapTime, type WrapTime } from './syslog.js';
import type { Zone } from './timezone.js';

/** What wraps osquery's line on its way (a syslog or journalctl prefix, a journal JSON entry). */
interface Wrapper {
  /** The host it names; null when it names none. */
  host: string | null;
  /** Who logged the line (host, program, pid): only its own next lines continue a message. */
  source: string;
  time: WrapTime | null;
}

/** osquery 1.x's syslog logger: `syslog(LOG_INFO, "result=%s", line)`. */
const RESULT_PREFIX = 'result={';

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
  /** Zone of the wall-clock times in glog lines. Default: the zone oqfwd runs in. */
  zone: Zone;
  /** hostIdentifier of status records when neither a glog header nor a syslog or journal wrapper names the machine. Default: this host's name. */
  host: string;
  /** The current time, for the year of glog lines without header. Default Date.now. */
  now?: () => number;
  /** Which events are written and what is added to them (see shape.ts). Default: every event, as it is. */
  shape?: ShapeOptions;
  /** Lines this long or longer are converted from their bytes (see lines.ts). Default LONG_LINE, 1 MiB. */
  longLine?: number;
}

/** `{"kind":"…"`: what goes before added members (see shape.ts) and then a spliced line's own bytes. */
const OPEN: Record<RecordKind, Buffer> = {
  result: Buffer.from('{"kind":"result"'),
  batch: Buffer.from('{"kind":"batch"'),
  snapshot: Buffer.from('{"kind":"snapshot"'),
  status: Buffer.from('{"kind":"status"'),
};

/** What goes before a spliced line's own bytes (after its `{`) when nothing is added. */
const SPLICE = Object.fromEntries(Object.entries(OPEN).map(([k, b]) => [k, Buffer.concat([b, Buffer.from(',')])])) as Record<RecordKind, Buffer>;

/** Output gathered before a flattened line's rows pause for it to drain (see Converter.busy). */
export const OUTPUT_PIECE = 1024 * 1024;

/**
 * A tracked input (--state) is converted this many bytes at a time, each piece followed by
 * its mark: a position can only be saved at a mark, so this bounds what a run that could not
 * deliver everything sends again next time, per input.
 */
export const MARK_GRAIN = 16 * 1024;

/** How long a status record read from stdin waits for continuation lines before it is written. */
export const IDLE_FLUSH_MS = 1000;

/**
 * How far an input has been converted: every line before `offset` (the `line` lines there)
 * is in the events emitted before this mark, or was reported. The pipeline carries marks
 * beside the events, so that a position is saved only once the events before it were
 * delivered (see ledger.ts).
 */
export class Mark {
  constructor(
    readonly track: Track,
    readonly start: Start,
    /** The input was read to its end for good (it is not at its name any more, or was read whole). */
    readonly finished = false,
  ) {}
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
  private readonly out = new OutputBuffer();
  /** Row events of a flattened line still to be written (see {@link busy}). */
  private rows: RowWriter | null = null;
  /** Objects of a `{…}{…}` line still to be converted (see {@link busy}), from `at`. */
  private glued: { text: string; at: number; first: boolean; lineNo: number } | null = null;
  /** close() was called while rows were still to be written. */
  private closing = false;
  /** What the splitter knows of the current line's piece of lines. */
  private piece: Piece | null = null;
  /** The input's name, for reports. */
  private file = '';
  /** The input's name as it goes into unparsed events: a JSON string, binary. */
  private fileJson = '""';
  private splitter: LineSplitter;
  private fatal: BadInputError | null = null;
  private clock: StatusClock;
  /** hostIdentifier for status records of this input (a glog header may name it). */
  private host: string;
  /** A glog header named the machine: it wins over a syslog or journal wrapper's host. */
  private named = false;
  /** A status record from text, held back while continuation lines may follow. */
  private pending: StatusRecord | null = null;
  /** Blank lines seen since it: part of its message if another continuation follows. */
  private pendingBlanks = 0;
  /** The wrapper source of the held status record; null when it came bare. */
  private pendingSource: string | null = null;
  /** Where the line of the held status record starts. */
  private pendingFrom: Start = { offset: 0, line: 0 };
  /** Where the line whose rows are being written starts. */
  private rowsFrom: Start = { offset: 0, line: 0 };
  /** Selection and added fields; null when none is asked for (every event goes as it is). */
  private readonly shaper: Shaper | null;
  /** Bytes of input taken in so far, of every input (for --progress). */
  bytesIn = 0;

  constructor(
    private readonly opts: ConvertOptions,
    private readonly stats: Stats,
    private readonly reporter: Reporter,
  ) {
    this.splitter = new LineSplitter(opts.maxLine, undefined, opts.longLine);
    this.clock = new StatusClock(opts.zone, opts.now);
    this.host = toBinary(opts.host);
    const shaper = new Shaper(opts.shape ?? NO_SHAPING);
    this.shaper = shaper.selects || shaper.enriches ? shaper : null;
  }

  /**
   * A new input begins; `name` is how reports refer to it. An input read from part of the
   * way through says where (`start`) and gives its first bytes (`head`), whose glog header
   * still tells the year and the machine of the lines that follow.
   */
  open(name: string, start?: Start, head?: Buffer): void {
    this.file = name;
    this.fileJson = quote(toBinary(name));
    this.splitter = new LineSplitter(this.opts.maxLine, start, this.opts.longLine);
    this.clock = new StatusClock(this.opts.zone, this.opts.now);
    this.host = toBinary(this.opts.host);
    this.named = false;
    const dated = dateFromFileName(name);
    if (dated !== null) this.clock.setOrigin(dated.year, dated.month, 'filename');
    if (start !== undefined && start.offset > 0 && head !== undefined) this.header(head.subarray(0, start.offset));
    this.stats.files++;
  }

  /** The glog header lines at the start of `head`, taken in without events or counts. */
  private header(head: Buffer): void {
    let at = 0;
    for (let nl = head.indexOf(10); nl !== -1; at = nl + 1, nl = head.indexOf(10, at)) {
      const h = parseGlogHeader(head.toString('latin1', at, nl).replace(/\r$/, ''));
      if (h === null) continue;
      if (h.type === 'created') this.clock.setOrigin(h.year, h.month, 'header');
      else if (h.type === 'machine') this.machine(h.host);
    }
  }

  private machine(host: string): void {
    this.host = host;
    this.named = true;
  }

  /**
   * Where the input is converted up to: the start of a held status record, of a line whose
   * rows are still being written, or of what the splitter has not handed out yet.
   */
  get converted(): Start {
    if (this.pending !== null) return this.pendingFrom;
    if (this.rows !== null || this.glued !== null) return this.rowsFrom;
    return { offset: this.splitter.position, line: this.splitter.lineNo };
  }

  /** Where the line being handled starts. */
  private here(): Start {
    return { offset: this.splitter.lineAt, line: this.splitter.lineNo - 1 };
  }

  data(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    this.splitter.push(chunk, this);
  }

  /**
   * The input ended: its last line, even without `\n`, and a held status record are
   * converted now. With `leave`, the input only stopped for now (a later run reads on from
   * where it is converted up to): a last line without `\n` is left for that run, said once.
   */
  close(leave = false): void {
    if (leave && this.splitter.partial > 0) {
      this.reporter.warn(`${this.file}: line ${this.splitter.lineNo + 1} has no newline yet (${this.splitter.partial} bytes): left for the next run`);
      this.splitter.drop();
    }
    this.splitter.end(this);
    if (this.busy) this.closing = true;
    else this.closed();
  }

  private closed(): void {
    this.closing = false;
    this.flushStatus();
    this.reporter.endInput(this.file);
  }

  /**
   * True while a flattened line still has rows to write and its output so far should drain
   * first: take() the output, then resume(). Memory then stays bounded however many rows a
   * line holds.
   */
  get busy(): boolean {
    return this.rows !== null || this.glued !== null;
  }

  /** Goes on after take() where busy stopped: the rows, then the lines after them. */
  resume(): void {
    this.writeRows();
    if (this.rows !== null) return;
    this.writeGlued();
    if (this.busy) return;
    this.splitter.resume(this);
    if (!this.busy && this.closing) this.closed();
  }

  private writeRows(): void {
    const w = this.rows;
    if (w === null) return;
    const stats = this.stats;
    while (!w.done) {
      if (this.out.length >= OUTPUT_PIECE) return;
      if (!w.write(this.out)) {
        stats.filtered++;
        continue;
      }
      stats.events++;
      if (w.rows > 0) stats.rowEvents++;
    }
    this.rows = null;
  }

  /** True while a status record waits for possible continuation lines. */
  get holding(): boolean {
    return this.pending !== null;
  }

  /** Emit the held status record now (the input has been idle). */
  flushStatus(): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    this.stats.linesBlank += this.pendingBlanks;
    this.pendingBlanks = 0;
    const sh = this.shaper;
    let extra = '';
    if (sh !== null) {
      if (!sh.keepQuery('status', null) || !sh.keepAction(null) || !sh.keepSeverity(p.severity)) {
        this.stats.filtered++;
        return;
      }
      if (sh.enriches) extra = statusFields(sh, p);
    }
    writeStatus(this.out, p, extra);
    this.stats.events++;
  }

  /** The line that must stop the run (--unparsed=fail), once there is one. */
  get failure(): BadInputError | null {
    return this.fatal;
  }

  /** Bytes of events made and not taken yet. */
  get made(): number {
    return this.out.length;
  }

  /** The events made since the last call, as NDJSON bytes (UTF-8), in order. */
  take(): Buffer[] {
    return this.out.take();
  }

  /** What take() gave cut at `ends`, each piece given back on its own (see OutputBuffer.pieces). */
  pieces(taken: Buffer[], ends: number[]): Buffer[][] {
    return this.out.pieces(taken, ends);
  }

  /** A buffer from take() that was written and is held by nobody: its memory is reused. */
  recycle(b: Buffer): void {
    this.out.recycle(b);
  }

  line(text: string, lineNo: number, piece: Piece, badUtf8: boolean): void {
    if (this.fatal) return;
    this.piece = piece;
    if (badUtf8) {
      this.stats.badUtf8++;
      this.reporter.line(this.file, lineNo, 'invalid UTF-8 replaced by U+FFFD');
    }
    const start = blanks(text);
    const c = text.charCodeAt(start);
    if (c === 123) {
      this.json(text, start, lineNo);
    } else if (c !== c) {
      // NaN: past the end, nothing but blanks
      if (this.pending !== null) this.pendingBlanks++;
      else this.stats.linesBlank++;
    } else {
      this.text(text, lineNo);
    }
  }

  /**
   * A long line as its bytes: an osquery JSON record is converted from them, without a
   * string of the whole line (memory stays about the line's size once). Any other line is
   * read as text, as a short one.
   */
  longLine(parts: Buffer[], lineNo: number): void {
    if (this.fatal) return;
    const text = new LineBytes(parts);
    const start = blanks(text);
    if (text.charCodeAt(start) === 123) {
      const safe = isSafe(text);
      const members = scanObjectLine(text, start, safe);
      const shape = members === null ? null : classify(text, members);
      if (shape !== null) {
        this.record(text, start, members!, shape, true, safe);
        return;
      }
    }
    const line = text.release();
    this.line(line, lineNo, new Piece(line), false);
  }

  overlong(lineNo: number, bytes: number): void {
    this.flushStatus();
    this.stats.linesSkipped++;
    const reason = `line of ${bytes} bytes longer than --max-line ${this.opts.maxLine}, skipped`;
    if (this.opts.unparsed === 'fail') this.fatal = new BadInputError(this.file, lineNo, reason);
    else this.reporter.line(this.file, lineNo, reason);
  }

  /**
   * A line that starts with `{`, at `start`; `inLine` is false for text that is not the
   * line's own bytes (a journal entry's decoded MESSAGE), which the splitter vouched nothing for.
   */
  private json(text: string, start: number, lineNo: number, inLine = true): void {
    const safe = (inLine && this.piece!.isSafe()) || isSafe(text);
    const members = scanObjectLine(text, start, safe);
    if (members !== null) {
      const shape = classify(text, members);
      if (shape === null) this.notRecord(text, members, lineNo, true);
      else this.record(text, start, members, shape, true, safe);
      return;
    }
    if (isConcatenated(text)) {
      this.flushStatus();
      this.concatenated(text, lineNo);
      return;
    }
    this.other(text, lineNo, () => invalidJson(text));
  }

  /** A JSON object line that no osquery record shape fits: a journal entry, or unparsed. */
  private notRecord(text: string, members: RawMember[], lineNo: number, counted: boolean): void {
    const entry = counted ? journalEntry(text, members) : null;
    if (entry !== null) {
      this.journal(entry, text, lineNo);
      return;
    }
    const reason = 'JSON object is not an osquery record';
    if (counted) this.other(text, lineNo, reason);
    else this.unparsed(text, lineNo, reason, false);
  }

  /** An osquery JSON record of `shape`; `counted` is false for the second and later objects glued on one line. */
  private record(text: JsonText, start: number, members: RawMember[], shape: Shape, counted: boolean, safe: boolean): void {
    this.flushStatus();
    const stats = this.stats;
    if (!counted) stats.gluedRecords++;
    switch (shape) {
      case 'result':
        if (counted) stats.linesResult++;
        break;
      case 'status':
        if (counted) stats.linesStatus++;
        break;
      case 'snapshot-row':
        if (counted) stats.linesSnapshot++;
        break;
      case 'batch':
      case 'snapshot':
        if (counted) {
          if (shape === 'batch') stats.linesBatch++;
          else stats.linesSnapshot++;
        }
        if (this.opts.flatten) {
          const w = new RowWriter(text, members, shape, this.shaper === null ? null : rowShape(this.shaper, text, members, shape));
          this.rowsFrom = this.here();
          if (w.rows === 0) stats.emptyRecords++;
          this.rows = w;
          this.writeRows();
          return;
        }
        break;
    }
    const kind = kindOf(shape);
    let extra = '';
    if (this.shaper !== null) {
      const e = lineShape(this.shaper, text, start, members, shape);
      if (e === null) {
        stats.filtered++;
        return;
      }
      extra = e;
    }
    if (safe && canSplice(text, members, kind)) {
      // The common case: the line's own bytes, with the kind (and any added members) put first.
      if (extra === '') {
        this.out.bytes(SPLICE[kind]);
      } else {
        this.out.bytes(OPEN[kind]);
        this.out.write(extra);
        this.out.byte(44); // ,
      }
      writeRange(this.out, text, start + 1, text.length);
      this.out.byte(10);
    } else {
      writeRecord(this.out, text, start, members, kind, extra, safe);
    }
    stats.events++;
  }

  /**
   * `{…}{…}` on one line (osquery 1.7): each object is converted on its own, a piece of
   * output at a time (see {@link busy}): a line of a million glued objects costs memory for
   * one piece, not for all of their events.
   */
  private concatenated(text: string, lineNo: number): void {
    this.rowsFrom = this.here();
    this.glued = { text, at: skipSpace(text, 0), first: true, lineNo };
    this.writeGlued();
  }

  private writeGlued(): void {
    const g = this.glued;
    if (g === null) return;
    while (g.at < g.text.length && this.fatal === null) {
      // The rows of a flattened object drain before the next object.
      if (this.rows !== null || this.out.length >= OUTPUT_PIECE) return;
      const end = skipValue(g.text, g.at);
      const piece = g.text.slice(g.at, end);
      g.at = skipSpace(g.text, end);
      const counted = g.first;
      g.first = false;
      const safe = isSafe(piece);
      const members = scanObjectLine(piece, 0, safe);
      const shape = members === null ? null : classify(piece, members);
      if (members === null) this.unparsed(piece, g.lineNo, invalidJson(piece), counted);
      else if (shape === null) this.notRecord(piece, members, g.lineNo, counted);
      else this.record(piece, 0, members, shape, counted, safe);
    }
    if (this.rows === null) this.glued = null;
  }


  /** A line that does not start with `{`: status text, syslog-wrapped, or not ours. */
  private text(text: string, lineNo: number): void {
    // (A plain piece has no control character: no CR to look for.)
    if (!this.piece!.isPlain() && text.indexOf('\r') !== -1 && this.crOnly(text, lineNo)) return;
    if (looksLikeGlog(text)) {
      const piece = this.piece!;
      const g = parseGlogLine(piece.text, piece.lineStart, piece.lineStart + text.length);
      if (g !== null) {
        this.glog(g, piece.isPlain() || !needsEscape(text));
        return;
      }
    }
    const header = parseGlogHeader(text);
    if (header !== null) {
      this.flushStatus();
      this.stats.linesHeader++;
      if (header.type === 'created') this.clock.setOrigin(header.year, header.month, 'header');
      else if (header.type === 'machine') this.machine(header.host);
      return;
    }
    const wrapped = unwrapSyslog(text);
    if (wrapped !== null) {
      this.carried(text, wrapped.offset, wrapped, lineNo, true);
      return;
    }
    if (text.startsWith(RESULT_PREFIX)) {
      this.json(text.slice(RESULT_PREFIX.length - 1), 0, lineNo);
      return;
    }
    if (this.severityText(text, 0, null)) return;
    if (text.startsWith('severity=')) {
      // Status text gone wrong, not the next line of a message.
      this.flushStatus();
      this.unparsed(text, lineNo, 'severity= text not of the form severity=N location=FILE:LINE message=TEXT (LINE in decimal digits)', true);
      return;
    }
    this.other(text, lineNo, () => (isJson(text) ? 'JSON value is not an object' : 'not an osquery line'));
  }

  /**
   * A status file whose lines end in CR alone comes as one line: it is cut before each CR
   * that a glog record or header follows (a message may hold a CR of its own), and each part
   * is read as a line, under the line number of the whole. False when there is no such CR.
   */
  private crOnly(text: string, lineNo: number): boolean {
    const cuts: number[] = [];
    for (let cr = text.indexOf('\r'); cr !== -1; ) {
      const next = text.indexOf('\r', cr + 1);
      const end = next === -1 ? text.length : next;
      if (parseGlogLine(text, cr + 1, end) !== null || parseGlogHeader(text.slice(cr + 1, end)) !== null) cuts.push(cr);
      cr = next;
    }
    if (cuts.length === 0) return false;
    const piece = this.piece!;
    const base = piece.lineStart;
    let from = 0;
    for (const cut of [...cuts, text.length]) {
      piece.lineStart = base + from;
      if (cut > from) this.text(text.slice(from, cut), lineNo);
      from = cut + 1;
    }
    piece.lineStart = base;
    return true;
  }

  /**
   * osquery's own line inside a wrapper (`text` from `at`): a JSON record, a 1.x syslog
   * `result=` line, a glog line, `severity=` text, or the next line of a held status message
   * (glog writes a multi-line message in one write; syslog and the journal make it several
   * entries). `inLine`: `text` is the line itself (a syslog prefix), not a decoded MESSAGE.
   */
  private carried(text: string, at: number, wrap: Wrapper, lineNo: number, inLine: boolean, line = text): void {
    if (text.charCodeAt(at) === 123) {
      this.json(text.slice(at), 0, lineNo, inLine);
      return;
    }
    if (text.startsWith(RESULT_PREFIX, at)) {
      this.json(text.slice(at + RESULT_PREFIX.length - 1), 0, lineNo, inLine);
      return;
    }
    const g = parseGlogLine(text, at, text.length);
    if (g !== null) {
      this.glog(g, (inLine && this.piece!.isPlain()) || !needsEscape(text), wrap);
      return;
    }
    if (this.severityText(text, at, wrap)) return;
    // Another program's line, or the next of a message only from the one that logged it.
    if (this.pending !== null && this.pendingSource === wrap.source) {
      this.other(line, lineNo, 'not an osquery line', text.slice(at));
      return;
    }
    this.flushStatus();
    this.unparsed(line, lineNo, 'not an osquery line', true);
  }

  /** A line of `journalctl -o json`: what its MESSAGE carries, at the entry's time and host. */
  private journal(entry: JournalEntry, text: string, lineNo: number): void {
    if (entry.message === null || entry.message === undefined) {
      this.flushStatus();
      const reason = entry.message === null ? 'journal entry without its MESSAGE (journalctl leaves out fields over 4096 bytes unless run with --all)' : 'journal MESSAGE is not text';
      this.unparsed(text, lineNo, reason, true);
      return;
    }
    this.carried(entry.message, 0, { host: entry.host, source: entry.source, time: entry.time }, lineNo, false, text);
  }

  /** The host of a status record carried by `wrap`: a glog header's, else the wrapper's, else --host. */
  private hostOf(wrap: Wrapper | null): string {
    return wrap === null || wrap.host === null || this.named ? this.host : wrap.host;
  }

  private glog(g: GlogLine, plain: boolean, wrap: Wrapper | null = null): void {
    this.flushStatus();
    this.stats.linesStatus++;
    // A wrapper with a full date tells the year and the zone of glog's wall time; without
    // one, the clock guesses them. Whole seconds suffice: the microseconds are glog's own.
    const t = wrap?.time;
    const dated = t === undefined || t === null || (t.utcMs === null && t.year === null) ? null : wrapTime(t, this.clock);
    let utcMs = dated === null ? null : nearWrapper(dated, g.month, g.day, g.hour, g.minute, g.second);
    let micros: number | null = g.micros;
    if (dated !== null && utcMs === null) {
      // Too far from the wrapper's time to be its moment: the wrapper's time, not a guess.
      utcMs = dated;
      micros = t!.micros;
    }
    utcMs ??= this.clock.resolve(g.month, g.day, g.hour, g.minute, g.second, 0);
    this.pendingFrom = this.here();
    this.pendingSource = wrap === null ? null : wrap.source;
    this.pending = { hostIdentifier: this.hostOf(wrap), utcMs, micros, severity: g.severity, filename: g.filename, line: g.line, message: g.message, threadId: g.threadId, plain };
  }

  /** `severity=N location=F:L message=M` at `at` of `text`, bare or carried by a wrapper. */
  private severityText(text: string, at: number, wrap: Wrapper | null): boolean {
    const st = parseSeverityText(text, at);
    if (st === null) return false;
    this.flushStatus();
    this.stats.linesStatus++;
    const utcMs = wrap === null ? null : wrapTime(wrap.time, this.clock);
    this.pendingFrom = this.here();
    this.pendingSource = wrap === null ? null : wrap.source;
    this.pending = { hostIdentifier: this.hostOf(wrap), utcMs, micros: utcMs === null ? null : (wrap?.time?.micros ?? null), severity: st.severity, filename: st.filename, line: st.line, message: st.message, threadId: null, plain: false };
    return true;
  }

  /**
   * A line that is no record of its own: the next line of a held status message if there
   * is one (multi-line SQL, a stack trace after a FATAL line), else unparsed. `tail` is
   * what continues the message (the line less a wrapper's prefix).
   */
  private other(text: string, lineNo: number, reason: string | (() => string), tail = text): void {
    const p = this.pending;
    if (p !== null && p.message.length + this.pendingBlanks + tail.length < this.opts.maxLine) {
      p.message += '\n'.repeat(this.pendingBlanks + 1) + tail;
      p.plain = false; // the newline needs escaping
      this.stats.linesContinuation += this.pendingBlanks + 1;
      this.pendingBlanks = 0;
      return;
    }
    this.flushStatus();
    this.unparsed(text, lineNo, typeof reason === 'string' ? reason : reason(), true);
  }

  /** `text` is binary; `reason` is for people. */
  private unparsed(text: string, lineNo: number, reason: string, counted: boolean): void {
    if (counted) this.stats.linesUnparsed++;
    else this.stats.gluedRecords++;
    if (this.opts.unparsed === 'fail') {
      this.fatal = new BadInputError(this.file, lineNo, reason); // reported once, as the fatal error
      return;
    }
    this.reporter.line(this.file, lineNo, reason);
    switch (this.opts.unparsed) {
      case 'drop':
        this.stats.dropped++;
        return;
      case 'forward': {
        const sh = this.shaper;
        let extra = '';
        if (sh !== null) {
          if (!sh.keepQuery('unparsed', null) || !sh.keepAction(null)) {
            this.stats.filtered++;
            return;
          }
          extra = sh.fields(null, sh.ids ? ['"unparsed"', this.fileJson, String(lineNo), quote(text)] : null);
        }
        this.out.write(`{"kind":"unparsed"${extra},"file":${this.fileJson},"line":${lineNo},"reason":${quote(toBinary(reason))},"raw":`);
        writeQuoted(this.out, text);
        this.out.write('}\n');
        this.stats.events++;
      }
    }
  }
}

/** How many spaces and tabs the line `s` begins with. */
function blanks(s: JsonText): number {
  let i = 0;
  for (let c = s.charCodeAt(0); c === 32 || c === 9; c = s.charCodeAt(++i));
  return i;
}

/** The end of the JSON object that a line `s` holds (white space after it left off). */
function objectEnd(s: JsonText): number {
  let end = s.length;
  for (let c = s.charCodeAt(end - 1); c === 32 || c === 9 || c === 13 || c === 10; c = s.charCodeAt(--end - 1));
  return end;
}

/**
 * The members shaping adds to the event of a whole JSON line (`s` from `start`), or null
 * when the event is not selected. Its id is over the kind and the line's own text.
 */
function lineShape(sh: Shaper, s: JsonText, start: number, members: RawMember[], shape: Shape): string | null {
  const kind = kindOf(shape);
  const f = lineFacts(members);
  if (sh.selects) {
    const action = shape === 'result' ? stringValue(s, f.action!) : shape === 'snapshot' || shape === 'snapshot-row' ? 'snapshot' : null;
    if (!sh.keepQuery(kind, sh.byName ? textOf(s, f.name) : null) || !sh.keepAction(action)) return null;
    if (kind === 'status' && !sh.keepSeverity(numberOf(s, f.severity))) return null;
  }
  if (!sh.enriches) return '';
  const time = sh.times ? sh.iso(numberOf(s, f.unixTime)) : null;
  let id: IdPart[] | null = null;
  if (sh.ids) {
    // The line's own text: a long line's as its pieces, not made a string to be hashed.
    const end = objectEnd(s);
    id = ['"' + kind + '"', typeof s === 'string' ? s.slice(start, end) : (s as LineBytes).pieces(start, end)];
  }
  return sh.fields(time, id, clashes(sh.names, members));
}

/**
 * The per-row shape of a batch or snapshot line flattened: the line's query selected once,
 * each row's action on its own. A row's id is over the line's identifying members and the
 * row (not the whole line: that would cost a line of n rows n times its length).
 */
function rowShape(sh: Shaper, s: JsonText, members: RawMember[], shape: Shape): RowShape {
  const kind = kindOf(shape === 'batch' ? 'result' : shape);
  const f = lineFacts(members);
  if (sh.selects && !sh.keepQuery(kind, sh.byName ? textOf(s, f.name) : null)) return () => null;
  const time = sh.times ? sh.iso(numberOf(s, f.unixTime)) : null;
  const own = clashes(sh.names, members);
  const head = sh.ids ? ['"' + kind + '"', rawOf(s, f.hostIdentifier), rawOf(s, f.name), rawOf(s, f.epoch), rawOf(s, f.counter), rawOf(s, f.unixTime)] : null;
  return (action, index, row) => {
    if (!sh.keepAction(action)) return null;
    if (!sh.enriches) return '';
    return sh.fields(time, head === null ? null : [...head, action === null ? '' : '"' + action + '"', String(index), row], own);
  };
}

/** The members shaping adds to a status event made from text (glog, `severity=`). */
function statusFields(sh: Shaper, p: StatusRecord): string {
  const seconds = p.utcMs === null ? null : Math.floor(p.utcMs / 1000);
  const time = seconds === null || !sh.times ? null : sh.iso(seconds, p.micros);
  const id = sh.ids
    ? ['"status"', quote(p.hostIdentifier), seconds === null ? '' : String(seconds), p.micros === null ? '' : String(p.micros), String(p.severity), quote(p.filename), String(p.line), quote(p.message)]
    : null;
  return sh.fields(time, id);
}

/** True when the binary string `text` is one JSON value, white space around it allowed. */
function isJson(text: string): boolean {
  const end = scanValue(text, skipSpace(text, 0));
  return end !== -1 && skipSpace(text, end) === text.length;
}

/**
 * Above this length, a line that is no JSON is not handed to JSON.parse for its words: up to
 * the error, JSON.parse builds every value it read, many times the line's size.
 */
const EXPLAIN_MAX = 1024 * 1024;

/** Why the binary string `text` is no JSON, in JSON.parse's words, for people. */
function invalidJson(text: string): string {
  if (text.length > EXPLAIN_MAX) return `invalid JSON (a line over ${EXPLAIN_MAX} bytes is not parsed again to say where)`;
  try {
    JSON.parse(fromBinary(text)); // the real text, so that quoted input reads right
    return 'invalid JSON';
  } catch (err) {
    const message = (err as Error).message;
    return 'invalid JSON: ' + (message.length > 120 ? message.slice(0, 117) + '...' : message);
  }
}

/**
 * The converter as the middle stage of the pipeline: input items in, NDJSON bytes out, one
 * piece per input chunk rather than per line. As an async generator, each `yield` waits
 * for the sink to take it, so backpressure reaches the input even inside one huge line.
 * After each item of an input that is tracked (--state), a {@link Mark} follows its events.
 *
 * @param idleMs on a live input (stdin), how long a held status record may wait for
 *   continuation lines before it is written anyway. Default {@link IDLE_FLUSH_MS}.
 */
export function convertStage(converter: Converter, idleMs = IDLE_FLUSH_MS): (source: AsyncIterable<InputItem>) => AsyncGenerator<Buffer | Mark> {
  /** Marks made since the output was last taken, each with the bytes of that output it covers. */
  let marks: Array<{ mark: Mark; ahead: number }> = [];
  let track: Track | undefined;
  const mark = (finished = false): void => {
    if (track !== undefined) marks.push({ mark: new Mark(track, converter.converted, finished), ahead: converter.made });
  };

  /**
   * The events made so far, rows of a flattened line included, as they drain, each mark right
   * after the events it covers: the ledger takes a mark as covering every byte before it, and
   * a merge of several inputs may put another input's events between any two items.
   */
  function* drain(): Generator<Buffer | Mark> {
    for (;;) {
      const taken = converter.take();
      if (marks.length === 0) {
        yield* taken;
      } else {
        // Pieces end where marks go: group i holds what mark i covers, beyond mark i - 1.
        const groups = converter.pieces(
          taken,
          marks.map((m) => m.ahead),
        );
        for (let i = 0; i < marks.length; i++) {
          yield* groups[i]!;
          yield marks[i]!.mark;
        }
        yield* groups[marks.length]!;
        marks = [];
      }
      if (!converter.busy) break;
      converter.resume();
    }
    if (converter.failure) throw converter.failure;
  }

  return async function* convert(source) {
    const items = source[Symbol.asyncIterator]();
    let live = false;
    for (;;) {
      const next = items.next();
      if (live && converter.holding && (await idle(next, idleMs))) {
        converter.flushStatus();
        mark();
        yield* drain();
      }
      const r = await next;
      if (r.done === true) return;
      const item = r.value;
      if (item.type === 'data') {
        let data = item.data;
        // A tracked input in pieces of MARK_GRAIN, each piece followed by its mark.
        while (track !== undefined && data.length > MARK_GRAIN) {
          converter.data(data.subarray(0, MARK_GRAIN));
          data = data.subarray(MARK_GRAIN);
          if (converter.busy) yield* drain();
          mark();
        }
        converter.data(data);
      } else if (item.type === 'open') {
        converter.open(item.name, item.start, item.track?.file.head);
        live = item.live;
        track = item.track;
      } else {
        converter.close(item.leave === true);
        live = false;
      }
      if (converter.busy) yield* drain();
      mark(item.type === 'close' && item.leave !== true);
      yield* drain();
      if (item.type === 'close') track = undefined;
    }
  };
}

/** True when `next` has not settled within `ms`. */
async function idle(next: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), ms)));
  try {
    return await Promise.race([next.then(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
