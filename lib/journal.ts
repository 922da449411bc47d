/**
 * `journalctl -o json` lines: one JSON object per journal entry, osquery's line in MESSAGE.
 * Per journalctl(1) (systemd 252, "Journal JSON Format"): values are strings, except a field
 * of non-printable or non-UTF-8 bytes (an array of the byte values), a field that repeats (an
 * array of its values) and a field larger than 4096 bytes without `--all` (null).
 */
import { arrayElements, fromBinary, toBinary, type RawMember } from './json-raw.js';

/** What a journal entry carries and says of it. */
export interface JournalEntry {
  /** MESSAGE as a binary string; null when journalctl left it out (larger than 4096 bytes), undefined when it is no text. */
  message: string | null | undefined;
  /** _HOSTNAME, binary; null when absent. */
  host: string | null;
  /** Who logged it: _HOSTNAME, SYSLOG_IDENTIFIER and _PID. */
  source: string;
  /** When it was logged: _SOURCE_REALTIME_TIMESTAMP, else __REALTIME_TIMESTAMP (µs since the epoch). */
  time: { utcMs: number; micros: number } | null;
}

/** A JSON string value, decoded into a binary string (escapes as the UTF-8 they stand for). */
function stringAt(s: string, start: number, end: number): string {
  const inner = s.slice(start + 1, end - 1);
  return inner.indexOf('\\') === -1 ? inner : toBinary(JSON.parse(fromBinary(s.slice(start, end))) as string);
}

/**
 * A field's value as a binary string: a string, an array of byte values, or the last of
 * repeated values; null for JSON null, undefined for anything else.
 */
function fieldValue(s: string, start: number, end: number): string | null | undefined {
  const c = s.charCodeAt(start);
  if (c === 34) return stringAt(s, start, end);
  if (c === 110) return null; // null
  if (c !== 91) return undefined;
  const el = arrayElements(s, start);
  if (el.length === 0) return '';
  const first = s.charCodeAt(el[0]!);
  if (first >= 48 && first <= 57) {
    // bytes
    let out = '';
    for (let i = 0; i < el.length; i += 2) {
      const b = Number(s.slice(el[i], el[i + 1]));
      if (!(Number.isInteger(b) && b >= 0 && b <= 255)) return undefined;
      out += String.fromCharCode(b);
    }
    return out;
  }
  return fieldValue(s, el[el.length - 2]!, el[el.length - 1]!); // repeated: the last, as with keys
}

/** Microseconds since the epoch, as journalctl writes them (a decimal string). */
function realtime(s: string, m: RawMember | null): { utcMs: number; micros: number } | null {
  if (m === null) return null;
  const v = fieldValue(s, m.valueStart, m.valueEnd);
  if (typeof v !== 'string' || !/^\d{1,17}$/.test(v)) return null;
  const us = Number(v);
  return { utcMs: Math.floor(us / 1e6) * 1000, micros: us % 1e6 };
}

/**
 * The journal entry in the JSON object `s` whose top-level members are `members`, or null
 * when it is not one (it must have MESSAGE and one of the journal's own `__` fields). As
 * everywhere, the last of duplicate keys counts.
 */
export function journalEntry(s: string, members: RawMember[]): JournalEntry | null {
  let message: RawMember | null = null;
  let host: RawMember | null = null;
  let identifier: RawMember | null = null;
  let pid: RawMember | null = null;
  let source: RawMember | null = null;
  let received: RawMember | null = null;
  let journal = false;
  for (const m of members) {
    switch (m.key) {
      case 'MESSAGE':
        message = m;
        break;
      case '_HOSTNAME':
        host = m;
        break;
      case 'SYSLOG_IDENTIFIER':
        identifier = m;
        break;
      case '_PID':
        pid = m;
        break;
      case '_SOURCE_REALTIME_TIMESTAMP':
        source = m;
        break;
      case '__REALTIME_TIMESTAMP':
        received = m;
        journal = true;
        break;
      case '__CURSOR':
        journal = true;
        break;
    }
  }
  if (message === null || !journal) return null;
  const value = (m: RawMember | null): string | null => (m === null ? null : (fieldValue(s, m.valueStart, m.valueEnd) ?? null));
  return {
    message: fieldValue(s, message.valueStart, message.valueEnd),
    host: value(host),
    source: `${value(host)} ${value(identifier)}[${value(pid)}]`,
    time: realtime(s, source) ?? realtime(s, received),
  };
}
