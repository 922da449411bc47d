import { lineNumber } from './glog.js';
import { quote, writeEscaped } from './json-raw.js';
import type { OutputBuffer } from './output-buffer.js';
import type { Zone } from './timezone.js';

/**
 * A status record on its way out, shaped like osquery's own JSON status records so a
 * receiver sees one schema whatever the source (glog file, `severity=` text, JSON).
 */
export interface StatusRecord {
  hostIdentifier: string;
  /** UTC milliseconds, or null when the source carries no time (`severity=` text). */
  utcMs: number | null;
  /** Microseconds of the second (0 to 999999), when the source has them. */
  micros: number | null;
  /** 0 INFO, 1 WARNING, 2 ERROR, 3 FATAL. */
  severity: number;
  filename: string;
  /** A number, or the digits of one too long for a double to hold exactly (written as they are). */
  line: number | string;
  message: string;
  /** glog thread id, when the source has one: digits, hex letters and x only. */
  threadId: string | null;
  /** True when `filename` and `message` are known to need no escaping (one test per line). */
  plain: boolean;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

// The event is written as constant parts (prepared bytes, copied at memory speed), numbers
// (as digits) and the record's own strings; each part ends where the next field's value
// begins. Building one string per event and writing it measured twice as slow.
const SEVERITY = Array.from({ length: 10 }, (_, n) => bytes(`,"severity":${n},"filename":"`));
const LINE = bytes('","line":');
const MESSAGE = bytes(',"message":"');
const THREAD = bytes('","threadId":"');
const NO_TIME_END = bytes('"}\n');
const TIME_END = bytes('Z"}\n');
/** What every status event begins with; added members (shape.ts) go right after it. */
const OPEN = bytes('{"kind":"status"');

/** The parts that depend on the host and the day: they change rarely, so they are cached. */
interface Parts {
  host: string;
  day: number;
  /** `{"kind":"status","hostIdentifier":"H","calendarTime":"Tue Nov 24 ` */
  timed: Buffer;
  /** `{"kind":"status","hostIdentifier":"H"` */
  untimed: Buffer;
  /** ` 2026 UTC","unixTime":` */
  year: Buffer;
  /** `","time":"2026-11-24T` */
  iso: Buffer;
}

let parts: Parts = { host: '', day: NaN, timed: bytes(''), untimed: bytes(''), year: bytes(''), iso: bytes('') };

const DAYS = ['Thu', 'Fri', 'Sat', 'Sun', 'Mon', 'Tue', 'Wed']; // 1970-01-01 was a Thursday
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function partsFor(host: string, day: number): Parts {
  // Days since the epoch to the civil date (H. Hinnant's algorithm).
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const p2 = (n: number): string => (n < 10 ? '0' : '') + n;
  const open = OPEN.toString('latin1') + ',"hostIdentifier":' + quote(host).slice(0, -1);
  return {
    host,
    day,
    timed: bytes(`${open}","calendarTime":"${DAYS[((day % 7) + 7) % 7]} ${MONTHS[m - 1]} ${d < 10 ? ' ' + d : d} `),
    untimed: bytes(open + '"'),
    year: bytes(` ${y} UTC","unixTime":`),
    iso: bytes(`","time":"${y}-${p2(m)}-${p2(d)}T`),
  };
}

/**
 * Writes the event for a status record, one NDJSON line: `calendarTime` is osquery's
 * (asctime() of UTC plus " UTC", day of month space-padded), `time` is ISO 8601 in UTC with
 * the record's microseconds. `extra`: members put right after `kind` (see shape.ts).
 */
export function writeStatus(out: OutputBuffer, r: StatusRecord, extra = ''): void {
  const utcMs = r.utcMs;
  const sec = utcMs === null ? 0 : Math.floor(utcMs / 1000);
  const day = Math.floor(sec / 86400);
  if (r.hostIdentifier !== parts.host || (utcMs !== null && day !== parts.day)) parts = partsFor(r.hostIdentifier, day);
  const secOfDay = sec - day * 86400;
  const open = utcMs !== null ? parts.timed : parts.untimed;
  if (extra === '') {
    out.bytes(open);
  } else {
    out.bytes(OPEN);
    out.write(extra);
    out.bytes(open.subarray(OPEN.length));
  }
  if (utcMs !== null) {
    out.clock(secOfDay);
    out.bytes(parts.year);
    out.int(sec);
  }
  const plain = r.plain;
  const severity = SEVERITY[r.severity];
  if (severity !== undefined) out.bytes(severity);
  else out.write(`,"severity":${r.severity},"filename":"`);
  writeInner(out, r.filename, plain);
  out.bytes(LINE);
  if (typeof r.line === 'number') out.int(r.line);
  else out.write(r.line);
  out.bytes(MESSAGE);
  writeInner(out, r.message, plain);
  if (r.threadId !== null) {
    out.bytes(THREAD);
    out.write(r.threadId); // nothing to escape in it
  }
  if (utcMs !== null && r.micros !== null) {
    out.bytes(parts.iso);
    out.clock(secOfDay);
    out.byte(46); // .
    out.digits(r.micros, 6);
    out.bytes(TIME_END);
  } else {
    out.bytes(NO_TIME_END);
  }
}

/** A JSON string's content, without its quotes. */
function writeInner(out: OutputBuffer, s: string, plain: boolean): void {
  if (plain) out.write(s);
  else writeEscaped(out, s);
}

/** Where the year of year-less time stamps comes from, best first. */
export type YearSource = 'header' | 'filename' | 'now';

/**
 * Gives glog's year-less local time stamps a year and a zone. The year comes from the
 * file header, else the file name, else the current date; a month that falls back by half
 * a year or more (December, then January) advances it; with only the current date to go
 * on, a first line that would lie in the future belongs to the previous year.
 */
export class StatusClock {
  private year = 0;
  private lastMonth = 0;
  private source: YearSource = 'now';
  // Lines come in runs from the same hour: its wall-clock start is computed once.
  private hourKey = -1;
  private hourWall = 0;

  /**
   * @param zone how local wall time maps to UTC
   * @param now the current time in ms (injectable for tests)
   */
  constructor(
    private readonly zone: Zone,
    private readonly now: () => number = Date.now,
  ) {}

  /** A header or file name dated the file: lines that follow count from there. */
  setOrigin(year: number, month: number, source: Exclude<YearSource, 'now'>): void {
    if (source === 'filename' && this.source === 'header') return;
    this.year = year;
    this.lastMonth = month;
    this.source = source;
  }

  /** UTC milliseconds of a local wall-clock time whose year is known. */
  local(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
    return this.zone.toUtc(Date.UTC(year, month - 1, day, hour, minute, second));
  }

  /** UTC milliseconds of a local wall-clock time with no year. */
  resolve(month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
    if (this.year === 0) {
      const now = this.now();
      this.year = new Date(now).getUTCFullYear();
      const t = this.zone.toUtc(Date.UTC(this.year, month - 1, day, hour, minute, second, ms));
      if (t > now + 86400000) this.year--; // more than a day ahead: last year's line
    } else if (this.lastMonth - month >= 6) {
      this.year++;
    }
    this.lastMonth = month;
    const key = ((this.year * 16 + month) * 32 + day) * 24 + hour;
    if (key !== this.hourKey) {
      this.hourKey = key;
      this.hourWall = Date.UTC(this.year, month - 1, day, hour);
    }
    return this.zone.toUtc(this.hourWall + minute * 60000 + second * 1000 + ms);
  }
}

/**
 * The stdout and syslog logger plugins' status text, `severity=N location=FILE:LINE
 * message=TEXT`, taken apart; null when `s` (from `from`) is not that.
 */
export function parseSeverityText(s: string, from: number): { severity: number; filename: string; line: number | string; message: string } | null {
  if (!s.startsWith('severity=', from)) return null;
  const sevAt = from + 9;
  const sev = s.charCodeAt(sevAt) - 48;
  if (!(sev >= 0 && sev <= 9) || !s.startsWith(' location=', sevAt + 1)) return null;
  const locAt = sevAt + 11;
  const msg = s.indexOf(' message=', locAt);
  if (msg === -1) return null;
  const colon = s.lastIndexOf(':', msg);
  if (colon < locAt) return null;
  // Decimal digits only: Number() would read `1e5`, `0x10` or nothing at all as a line.
  const digits = s.slice(colon + 1, msg);
  if (!/^\d+$/.test(digits)) return null;
  return { severity: sev, filename: s.slice(locAt, colon), line: lineNumber(digits), message: s.slice(msg + 9) };
}
