/** Where the osquery text inside a syslog line starts, and what the syslog prefix said. */
export interface SyslogWrap {
  /** Offset of the carried text (after `@cee:` when present). */
  offset: number;
  /** The host name the syslog daemon wrote. */
  host: string;
}

// `<PRI>` (optional, with RFC 5424's version "1 "), a time stamp (RFC 3164 `Nov  7 21:07:58`
// or ISO 8601 as rsyslog's high-precision format writes it), the host, then `tag[pid]: `.
// osquery's syslog plugin logs with LOG_PID, so the `[pid]` is always there; the tag is the
// process name, normally osqueryd.
const PREFIX =
  /^(?:<\d{1,3}>(?:1 )?)?(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?) (\S+) [^\s[\]]+\[\d+\]: ?(?:@cee: ?)?/;

/** The syslog wrapping around `line`, or null when it has none. */
export function unwrapSyslog(line: string): SyslogWrap | null {
  const m = PREFIX.exec(line);
  if (m === null) return null;
  return { offset: m[0].length, host: m[1]! };
}
