import { quote } from './json-raw.js';
import type { Zone } from './timezone.js';

/**
 * A status record on its way out, shaped like osquery's own JSON status records so a
 * receiver sees one schema whatever the source (glog file, `severity=` text, JSON).
 */
export interface StatusRecord {
  hostIdentifier: string;
  /** UTC milliseconds, or null when the source carries no time (`severity=` text). */
  utcMs: number | null;
  /** Six-digit microseconds of the second, when the source has them. */
  micros: string | null;
  /** 0 INFO, 1 WARNING, 2 ERROR, 3 FATAL. */
  severity: number;
  filename: string;
  line: number;
  message: string;
  /** glog thread id, when the source has one: digits, hex letters and x only. */
  threadId: string | null;
  /** True when `filename` and `message` are known to need no escaping (one test per line). */
  plain: boolean;
}

const DAYS = ['Thu', 'Fri', 'Sat', 'Sun', 'Mon', 'Tue', 'Wed']; // 1970-01-01 was a Thursday
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const P2 = Array.from({ length: 100 }, (_, i) => (i < 10 ? '0' : '') + i);

// Status lines come in runs from the same day: the date parts of both time formats are
// computed once per day, the rest with integer arithmetic (Date objects cost more than the
// rest of a glog line's work).
let cachedDay = NaN;
let calendarHead = ''; // "Tue Nov 24 "
let calendarTail = ''; // " 2026 UTC"
let isoHead = ''; // "2026-11-24T"

function setDay(day: number): void {
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
  cachedDay = day;
  calendarHead = `${DAYS[((day % 7) + 7) % 7]} ${MONTHS[m - 1]} ${d < 10 ? ' ' + d : d} `;
  calendarTail = ` ${y} UTC`;
  isoHead = `${y}-${P2[m]}-${P2[d]}T`;
}

function clock(sec: number): string {
  const s = ((sec % 86400) + 86400) % 86400;
  return P2[Math.floor(s / 3600)] + ':' + P2[Math.floor(s / 60) % 60] + ':' + P2[s % 60];
}

/** osquery's calendarTime: asctime() of UTC plus " UTC", day of month space-padded. */
export function calendarTime(utcMs: number): string {
  const sec = onDay(utcMs);
  return calendarHead + clock(sec) + calendarTail;
}

/** ISO 8601 in UTC with the record's microseconds: `2026-11-25T09:11:40.123456Z`. */
export function preciseTime(utcMs: number, micros: string): string {
  const sec = onDay(utcMs);
  return isoHead + clock(sec) + '.' + micros + 'Z';
}

/** The seconds of `utcMs`, with the date parts of its day ready. */
function onDay(utcMs: number): number {
  const sec = Math.floor(utcMs / 1000);
  const day = Math.floor(sec / 86400);
  if (day !== cachedDay) setDay(day);
  return sec;
}

// The host rarely changes from one record to the next.
let lastHost = '';
let lastHostJson = '""';

/** The event for a status record, as one NDJSON line. */
export function encodeStatus(r: StatusRecord): string {
  if (r.hostIdentifier !== lastHost) {
    lastHost = r.hostIdentifier;
    lastHostJson = quote(lastHost);
  }
  let out = '{"kind":"status","hostIdentifier":' + lastHostJson;
  if (r.utcMs !== null) out += ',"calendarTime":"' + calendarTime(r.utcMs) + '","unixTime":' + Math.floor(r.utcMs / 1000);
  out += ',"severity":' + r.severity + ',"filename":';
  out += r.plain ? '"' + r.filename + '","line":' + r.line + ',"message":"' + r.message + '"' : quote(r.filename) + ',"line":' + r.line + ',"message":' + quote(r.message);
  if (r.threadId !== null) out += ',"threadId":"' + r.threadId + '"'; // nothing to escape in it
  if (r.utcMs !== null && r.micros !== null) out += ',"time":"' + preciseTime(r.utcMs, r.micros) + '"';
  return out + '}\n';
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
export function parseSeverityText(s: string, from: number): { severity: number; filename: string; line: number; message: string } | null {
  if (!s.startsWith('severity=', from)) return null;
  const sevAt = from + 9;
  const sev = s.charCodeAt(sevAt) - 48;
  if (!(sev >= 0 && sev <= 9) || !s.startsWith(' location=', sevAt + 1)) return null;
  const locAt = sevAt + 11;
  const msg = s.indexOf(' message=', locAt);
  if (msg === -1) return null;
  const colon = s.lastIndexOf(':', msg);
  if (colon < locAt) return null;
  const line = Number(s.slice(colon + 1, msg));
  if (!Number.isInteger(line)) return null;
  return { severity: sev, filename: s.slice(locAt, colon), line, message: s.slice(msg + 9) };
}
