/**
 * The prefixes osquery's messages get on the way to a syslog file or out of the journal:
 * RFC 3164 (`Nov 16 07:43:35 host osqueryd[1226]: `, also with a year or microseconds),
 * RFC 5424 (`<14>1 2026-11-25T09:11:40.123456+01:00 host osqueryd 1226 - - `), and
 * journalctl's text formats, which are RFC 3164's with other time stamps (short, short-precise,
 * short-iso, short-iso-precise, short-full, short-unix; `cat` has no prefix at all).
 */

/** When a wrapper says the line was logged. */
export type WrapTime =
  /** A full date and zone (RFC 5424, ISO 8601 with an offset, short-unix, the journal's JSON). */
  | { utcMs: number; micros: number | null }
  /**
   * Local wall time (RFC 3164 and journalctl's short and short-precise have no year; short-full
   * has one and a zone abbreviation that only UTC and GMT make sure of).
   */
  | { utcMs: null; year: number | null; month: number; day: number; hour: number; minute: number; second: number; micros: number | null; utc: boolean };

/** Where the osquery text inside a wrapped line starts, and what the wrapper said. */
export interface SyslogWrap {
  /** Offset of the carried text (after `@cee:` when present). */
  offset: number;
  /** The host name the wrapper names. */
  host: string;
  /** Who logged it: the host and `tag[pid]` (RFC 5424: APP-NAME and PROCID). */
  source: string;
  /** Null when the wrapper gives none (RFC 5424's `-`). */
  time: WrapTime | null;
}

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';

// The time stamps before the host, one alternative each:
// 1 RFC 3164 / short / short-precise: `Nov  7 21:07:58[.123456]`, or with a year `Nov  7 2026 21:07:58`
// 2 ISO 8601 (rsyslog's high-precision format, short-iso[-precise]): `2026-11-16T07:43:35[.080093](Z|+01:00|+0100)`
// 3 short-full: `Mon 2026-11-16 07:43:35 CET`
// 4 short-unix: `1794811415.080093`
const BSD = '([A-Z][a-z]{2}) ([ \\d]\\d) (?:(\\d{4}) )?(\\d\\d):(\\d\\d):(\\d\\d)(?:\\.(\\d{1,6}))?';
const ISO = '(\\d{4})-(\\d\\d)-(\\d\\d)T(\\d\\d):(\\d\\d):(\\d\\d)(?:[.,](\\d{1,9}))?(Z|[+-]\\d\\d:?\\d\\d)?';
const FULL = '[A-Z][a-z]{2} (\\d{4})-(\\d\\d)-(\\d\\d) (\\d\\d):(\\d\\d):(\\d\\d) ([A-Za-z][A-Za-z0-9+-]{0,9})';
const UNIX = '(\\d{9,11})\\.(\\d{6})';
// `<PRI>` (optional, or with a version as some senders write it), a time stamp, the host,
// then `tag[pid]: ` (journalctl leaves out the `[pid]` when the entry has none).
const PREFIX = new RegExp(`^(?:<\\d{1,3}>(?:1 )?)?(?:${BSD}|${ISO}|${FULL}|${UNIX}) (\\S+) ([^\\s[\\]:]+(?:\\[\\d+\\])?): ?(?:@cee: ?)?`);
// RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG`, any of
// the header fields `-` when unknown; structured data `-` or `[id k="v" ...]...` (values may
// escape `"`, `\` and `]`); MSG may start with a UTF-8 byte order mark (here binary).
const RFC5424 = new RegExp(`^<\\d{1,3}>1 (?:-|${ISO}) (\\S+) (\\S+ \\S+) \\S+ (?:-|(?:\\[[^\\s\\]"=]+(?: [^\\s\\]"=]+="(?:[^"\\\\]|\\\\.)*")*\\])+)(?: (?:\\xef\\xbb\\xbf)?|$)`);

/** Microseconds from the digits of a fraction of a second (more than six are cut). */
function micros(digits: string | undefined): number | null {
  return digits === undefined ? null : Number(digits.slice(0, 6).padEnd(6, '0'));
}

/** UTC milliseconds and microseconds of ISO 8601 fields from `m` at `i`; local wall time without an offset. */
function iso(m: RegExpExecArray, i: number): WrapTime {
  const [year, month, day, hour, minute, second] = [m[i], m[i + 1], m[i + 2], m[i + 3], m[i + 4], m[i + 5]].map(Number) as [number, number, number, number, number, number];
  const us = micros(m[i + 6]);
  const zone = m[i + 7];
  if (zone === undefined) return { utcMs: null, year, month, day, hour, minute, second, micros: us, utc: false };
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  if (zone === 'Z') return { utcMs: wall, micros: us };
  const sign = zone.charCodeAt(0) === 45 ? -1 : 1;
  const digits = zone.replace(':', '');
  return { utcMs: wall - sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))) * 60000, micros: us };
}

/** The wrapping around `line`, or null when it has none. */
export function unwrapSyslog(line: string): SyslogWrap | null {
  const m = PREFIX.exec(line);
  if (m !== null) {
    let time: WrapTime;
    if (m[1] !== undefined) {
      const month = MONTHS.indexOf(m[1]) / 3 + 1;
      if (!Number.isInteger(month) || month < 1) return null;
      time = { utcMs: null, year: m[3] === undefined ? null : Number(m[3]), month, day: Number(m[2]!.trim()), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]), micros: micros(m[7]), utc: false };
    } else if (m[8] !== undefined) {
      time = iso(m, 8);
    } else if (m[16] !== undefined) {
      const zone = m[22]!;
      time = { utcMs: null, year: Number(m[16]), month: Number(m[17]), day: Number(m[18]), hour: Number(m[19]), minute: Number(m[20]), second: Number(m[21]), micros: null, utc: zone === 'UTC' || zone === 'GMT' };
    } else {
      time = { utcMs: Number(m[23]) * 1000, micros: Number(m[24]) };
    }
    return { offset: m[0].length, host: m[25]!, source: `${m[25]} ${m[26]}`, time };
  }
  if (line.charCodeAt(0) !== 60) return null; // <
  const r = RFC5424.exec(line);
  if (r === null) return null;
  return { offset: r[0].length, host: r[9]!, source: `${r[9]} ${r[10]}`, time: r[1] === undefined ? null : iso(r, 1) };
}

/** Something that gives a year-less local time a year and a zone (a StatusClock). */
export interface WallClock {
  resolve(month: number, day: number, hour: number, minute: number, second: number, ms: number): number;
  /** UTC milliseconds of a local wall time whose year is known. */
  local(year: number, month: number, day: number, hour: number, minute: number, second: number): number;
}

/** UTC milliseconds of a wrapper's time stamp (whole seconds), or null when it has none. */
export function wrapTime(time: WrapTime | null, clock: WallClock): number | null {
  if (time === null) return null;
  if (time.utcMs !== null) return time.utcMs;
  if (time.year === null) return clock.resolve(time.month, time.day, time.hour, time.minute, time.second, 0);
  if (time.utc) return Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second);
  return clock.local(time.year, time.month, time.day, time.hour, time.minute, time.second);
}

/** Time zones lie within these hours of UTC; a wrapper and its glog line further apart are not the same moment. */
const ZONE_SPAN_MS = 15 * 3600 * 1000;
/** Zone offsets are whole quarter hours. */
const QUARTER_HOUR_MS = 15 * 60 * 1000;

/**
 * UTC milliseconds of a year-less glog wall time (`month`..`second`) logged at `wrapped`
 * (UTC ms, from a wrapper with a full date and zone): the year that puts the two nearest, and
 * the zone offset between them, rounded to a quarter hour (the wrapper's time is when the line
 * reached the journal or the syslog daemon, a moment after glog wrote it). Null when no year
 * puts them within a time zone of each other.
 */
export function nearWrapper(wrapped: number, month: number, day: number, hour: number, minute: number, second: number): number | null {
  const year = new Date(wrapped).getUTCFullYear();
  let best: number | null = null;
  for (const y of [year - 1, year, year + 1]) {
    const wall = Date.UTC(y, month - 1, day, hour, minute, second);
    if (Math.abs(wall - wrapped) <= ZONE_SPAN_MS && (best === null || Math.abs(wall - wrapped) < Math.abs(best - wrapped))) best = wall;
  }
  if (best === null) return null;
  return best - Math.round((best - wrapped) / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
}
