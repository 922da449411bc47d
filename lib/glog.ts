/**
 * glog text lines, as osquery's filesystem logger writes them to osqueryd.INFO/WARNING/ERROR:
 * `[IWEF]MMDD HH:MM:SS.uuuuuu THREADID FILE:LINE] MESSAGE`, and the header lines glog
 * writes at the top of each file. Parsed by hand, position by position: these files can be
 * large and a regular expression per line costs more than the rest of the work.
 */

/** One glog record line, taken apart. */
export interface GlogLine {
  /** 0 INFO, 1 WARNING, 2 ERROR, 3 FATAL. */
  severity: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** The microseconds of the second (six digits as written). */
  micros: number;
  /** The thread id as written (decimal, or hex on some platforms). */
  threadId: string;
  /** Source file basename. */
  filename: string;
  /** Source line: a number, or its digits (leading zeros dropped) where a double cannot hold it exactly. */
  line: number | string;
  message: string;
}

function severityOf(c: number): number {
  switch (c) {
    case 73: // I
      return 0;
    case 87: // W
      return 1;
    case 69: // E
      return 2;
    case 70: // F
      return 3;
    default:
      return -1;
  }
}

/** Two decimal digits at `i`, or NaN. */
function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

/**
 * A status line number from its decimal `digits`: a number, or past 15 digits, where a
 * double may not hold it exactly, the digits themselves (a JSON number as written, without
 * leading zeros, which JSON does not allow).
 */
export function lineNumber(digits: string): number | string {
  return digits.length > 15 ? digits.replace(/^0+(?=\d)/, '') : Number(digits);
}

/** The decimal number `s[from, to)` (see {@link lineNumber}), or -1 when that is not all digits. */
function numberAt(s: string, from: number, to: number): number | string {
  if (to - from > 15) return isDigits(s, from, to) ? lineNumber(s.slice(from, to)) : -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    n = n * 10 + c;
  }
  return to > from ? n : -1;
}

function isDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return to > from;
}

function isThreadChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c === 120; // 0-9 a-f A-F x
}

/** Cheap test: could `s` be a glog record line? (severity letter then a digit) */
export function looksLikeGlog(s: string): boolean {
  const d = s.charCodeAt(1);
  return severityOf(s.charCodeAt(0)) >= 0 && d >= 48 && d <= 57;
}

/**
 * Parses a glog record line, `s[from, to)`, or returns null when it is not one. (Reading it
 * in place saves slicing it out of a larger string, and reads faster from a flat one.)
 */
export function parseGlogLine(s: string, from = 0, to = s.length): GlogLine | null {
  const severity = severityOf(s.charCodeAt(from));
  if (severity < 0 || to - from < 22) return null;
  const month = d2(s, from + 1);
  const day = d2(s, from + 3);
  const hour = d2(s, from + 6);
  const minute = d2(s, from + 9);
  const second = d2(s, from + 12);
  const micros = (d2(s, from + 15) * 100 + d2(s, from + 17)) * 100 + d2(s, from + 19); // NaN unless six digits
  if (
    !(month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60 && micros >= 0) ||
    s.charCodeAt(from + 5) !== 32 ||
    s.charCodeAt(from + 8) !== 58 ||
    s.charCodeAt(from + 11) !== 58 ||
    s.charCodeAt(from + 14) !== 46 ||
    s.charCodeAt(from + 21) !== 32
  ) {
    return null;
  }
  // Thread id: right-aligned with any number of spaces before it.
  let i = from + 22;
  while (i < to && s.charCodeAt(i) === 32) i++;
  const tidStart = i;
  while (i < to && isThreadChar(s.charCodeAt(i))) i++;
  if (i === tidStart || i === to || s.charCodeAt(i) !== 32) return null;
  const fileStart = i + 1;
  const close = s.indexOf(']', fileStart);
  if (close === -1 || close >= to) return null;
  const colon = s.lastIndexOf(':', close);
  if (colon <= fileStart) return null;
  const line = numberAt(s, colon + 1, close);
  if (line === -1) return null;
  // "] " then the message; an empty message may lose its space.
  const msgStart = close + 1 < to && s.charCodeAt(close + 1) === 32 ? close + 2 : close + 1;
  return {
    severity,
    month,
    day,
    hour,
    minute,
    second,
    micros,
    threadId: s.slice(tidStart, i),
    filename: s.slice(fileStart, colon),
    line,
    message: s.slice(msgStart, to),
  };
}

/** What a glog header line says. */
export type GlogHeader =
  | { type: 'created'; year: number; month: number }
  | { type: 'machine'; host: string }
  | { type: 'other' };

const CREATED = 'Log file created at: ';
const MACHINE = 'Running on machine: ';
// Header lines that carry nothing oqfwd uses. osquery >= 5.2 writes a line format that
// claims a year (yyyymmdd) its lines do not have: the line parser never trusts it.
const OTHER = ['Running duration (h:mm:ss): ', 'Log line format: ', 'Application fingerprint: '];

/** Parses a glog file header line, or returns null when `s` is not one. */
export function parseGlogHeader(s: string): GlogHeader | null {
  if (s.startsWith(CREATED)) {
    // YYYY/MM/DD HH:MM:SS, local time of the writing host
    const at = CREATED.length;
    const year = Number(s.slice(at, at + 4));
    const month = d2(s, at + 5);
    if (!isDigits(s, at, at + 4) || s.charCodeAt(at + 4) !== 47 || !(month >= 1 && month <= 12)) return null;
    return { type: 'created', year, month };
  }
  if (s.startsWith(MACHINE)) return { type: 'machine', host: s.slice(MACHINE.length).trim() };
  for (const p of OTHER) if (s.startsWith(p)) return { type: 'other' };
  return null;
}

const FILE_STAMP = /\.(\d{4})(\d\d)\d\d-\d{6}\.\d+$/;

/** The year and month in a glog file name such as `osqueryd.INFO.20261125-091140.1184`. */
export function dateFromFileName(name: string): { year: number; month: number } | null {
  const m = FILE_STAMP.exec(name);
  if (m === null) return null;
  const month = Number(m[2]);
  return month >= 1 && month <= 12 ? { year: Number(m[1]), month } : null;
}
