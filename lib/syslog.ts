/** Where the osquery text inside a syslog line starts, and what the syslog prefix said. */
export interface SyslogWrap {
  /** Offset of the carried text (after `@cee:` when present). */
  offset: number;
  /** The host name the syslog daemon wrote. */
  host: string;
  /** The time stamp as written (RFC 3164 or ISO 8601). */
  time: string;
}

// `<PRI>` (optional, with RFC 5424's version "1 "), a time stamp (RFC 3164 `Nov  7 21:07:58`
// or ISO 8601 as rsyslog's high-precision format writes it), the host, then `tag[pid]: `.
// osquery's syslog plugin logs with LOG_PID, so the `[pid]` is always there; the tag is the
// process name, normally osqueryd.
const PREFIX =
  /^(?:<\d{1,3}>(?:1 )?)?([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?) (\S+) [^\s[\]]+\[\d+\]: ?(?:@cee: ?)?/;

/** The syslog wrapping around `line`, or null when it has none. */
export function unwrapSyslog(line: string): SyslogWrap | null {
  const m = PREFIX.exec(line);
  if (m === null) return null;
  return { offset: m[0].length, host: m[2]!, time: m[1]! };
}

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';

/** Something that gives a year-less local time a year and a zone (a StatusClock). */
export interface WallClock {
  resolve(month: number, day: number, hour: number, minute: number, second: number, ms: number): number;
}

/** UTC milliseconds of a syslog time stamp, or null when it cannot be read. */
export function syslogTime(time: string, clock: WallClock): number | null {
  if (time.charCodeAt(4) === 45) {
    const t = Date.parse(time); // ISO 8601 carries its own year and offset
    return Number.isNaN(t) ? null : t;
  }
  // RFC 3164: `Nov  7 21:07:58`, local time, no year
  const month = MONTHS.indexOf(time.slice(0, 3)) / 3 + 1;
  if (month < 1 || !Number.isInteger(month)) return null;
  return clock.resolve(month, Number(time.slice(4, 6).trim()), Number(time.slice(7, 9)), Number(time.slice(10, 12)), Number(time.slice(13, 15)), 0);
}
