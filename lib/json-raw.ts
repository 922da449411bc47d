import type { LineBytes } from './line-bytes.js';

/**
 * Work on JSON as text. oqfwd never re-serialises a value it forwards: it slices the
 * input's own bytes. That keeps every value exact (64-bit integers, `2.0`, `\/`) and is
 * cheaper than `JSON.stringify`. The slicing functions assume text already validated (by
 * json-scan.ts or `JSON.parse`); on other text they still end, with offsets no caller trusts
 * before validating the pieces. None of them recurses, so nesting depth is no concern.
 */

/**
 * JSON text as the functions here read it: a binary string (see lines.ts), or a long line
 * kept as its bytes (see line-bytes.ts), which reads the same, one character per byte.
 */
export interface JsonText {
  readonly length: number;
  charCodeAt(i: number): number;
  indexOf(search: string, from?: number): number;
  startsWith(search: string, at?: number): boolean;
  slice(start?: number, end?: number): string;
}

/** One member of a JSON object, as offsets into the text. */
export interface RawMember {
  /** The key, decoded. */
  key: string;
  /** Offset of the key's opening quote. */
  keyStart: number;
  /** Offset just past the key's closing quote. */
  keyEnd: number;
  /** Offset of the value's first character. */
  valueStart: number;
  /** Offset just past the value. */
  valueEnd: number;
}

const QUOTE = 34;
const BACKSLASH = 92;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** The offset of the first character at or after `i` that is not JSON white space. */
export function skipSpace(s: JsonText, i: number): number {
  while (isSpace(s.charCodeAt(i))) i++;
  return i;
}

/** `i` is at an opening quote; returns the offset past the closing one. */
function skipString(s: JsonText, i: number): number {
  let j = i;
  for (;;) {
    j = s.indexOf('"', j + 1);
    if (j === -1) return s.length;
    // An escaped quote has an odd run of backslashes before it.
    let k = j - 1;
    while (s.charCodeAt(k) === BACKSLASH) k--;
    if ((j - 1 - k) % 2 === 0) return j + 1;
  }
}

/** Returns the offset just past the value that starts at `i`. */
export function skipValue(s: JsonText, i: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) return skipString(s, i);
  if (c === 123 || c === 91) {
    let depth = 0;
    const n = s.length;
    for (let j = i; j < n; j++) {
      const d = s.charCodeAt(j);
      if (d === QUOTE) {
        j = skipString(s, j) - 1;
      } else if (d === 123 || d === 91) {
        depth++;
      } else if (d === 125 || d === 93) {
        if (--depth === 0) return j + 1;
      }
    }
    return n;
  }
  // number, true, false, null
  let j = i + 1;
  for (;;) {
    const d = s.charCodeAt(j);
    if (d !== d || d === 44 || d === 125 || d === 93 || isSpace(d)) return j; // NaN: end of text
    j++;
  }
}

/** The JSON string whose quotes are at `start` and `end - 1`, decoded (a key or a value). */
export function decodeString(s: JsonText, start: number, end: number): string {
  const inner = s.slice(start + 1, end - 1);
  return inner.indexOf('\\') === -1 ? inner : (JSON.parse(s.slice(start, end)) as string);
}

/**
 * The JSON string at `[start, end)` of the binary string `s` as the text it stands for.
 * (decodeString keeps bytes as bytes: a `\\u` escape above U+00FF does not fit that.)
 */
export function jsonString(s: JsonText, start: number, end: number): string {
  const text = fromBinary(s.slice(start, end));
  return text.indexOf('\\') === -1 ? text.slice(1, -1) : (JSON.parse(text) as string);
}

/** The members of the object that starts at offset `i` (its `{`), in text order. */
export function objectMembers(s: JsonText, i: number): RawMember[] {
  const out: RawMember[] = [];
  i = skipSpace(s, i + 1);
  if (s.charCodeAt(i) === 125) return out;
  for (;;) {
    const keyStart = i;
    const keyEnd = skipString(s, i);
    const valueStart = skipSpace(s, skipSpace(s, keyEnd) + 1); // past the ':'
    const valueEnd = skipValue(s, valueStart);
    out.push({ key: decodeString(s, keyStart, keyEnd), keyStart, keyEnd, valueStart, valueEnd });
    i = skipSpace(s, valueEnd);
    if (s.charCodeAt(i) !== 44) return out; // '}' ends it
    i = skipSpace(s, i + 1);
  }
}

/** Where the first element of the array whose `[` is at `i` starts, or -1 when it has none. */
export function firstElement(s: JsonText, i: number): number {
  i = skipSpace(s, i + 1);
  return s.charCodeAt(i) === 93 ? -1 : i;
}

/** Where the element after the one that ends at `end` starts, or -1 when that was the last. */
export function nextElement(s: JsonText, end: number): number {
  const i = skipSpace(s, end);
  return s.charCodeAt(i) === 44 ? skipSpace(s, i + 1) : -1;
}

/** The `[start, end)` offsets of the elements of the array that starts at `i` (its `[`). */
export function arrayElements(s: JsonText, i: number): number[] {
  const out: number[] = [];
  for (let at = firstElement(s, i); at !== -1; ) {
    const end = skipValue(s, at);
    out.push(at, end);
    at = nextElement(s, end);
  }
  return out;
}

/** The number of elements of the array that starts at `i` (its `[`), nothing kept of them. */
export function countElements(s: JsonText, i: number): number {
  let n = 0;
  for (let at = firstElement(s, i); at !== -1; at = nextElement(s, skipValue(s, at))) n++;
  return n;
}

/**
 * True when `s` is two or more JSON objects one after the other (`{…}{…}`, as osquery 1.7
 * wrote them), white space between them at most. Nothing is kept: the objects are found
 * again one by one as they are converted, so a line of millions costs no list of them.
 */
export function isConcatenated(s: string): boolean {
  let n = 0;
  for (let i = skipSpace(s, 0); i < s.length; n++) {
    if (s.charCodeAt(i) !== 123) return false;
    i = skipSpace(s, skipValue(s, i));
  }
  return n >= 2;
}

/** A binary string (one char per byte, see lines.ts) as the text its UTF-8 spells. */
export function fromBinary(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}

/** Text as a binary string of its UTF-8 bytes. */
export function toBinary(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

// What may not leave oqfwd raw, as UTF-8 bytes in a binary string: C0 controls (only
// possible as whitespace between tokens in text JSON.parse accepted), DEL, C1 controls
// (C2 80-9F; U+0085 breaks line-oriented readers), U+2028/U+2029 (E2 80 A8/A9, line
// terminators to JavaScript), and escaped surrogates, which need a look to see whether
// they pair up.
const UNSAFE = /[\u0000-\u001f\u007f]|\u00c2[\u0080-\u009f]|\u00e2\u0080[\u00a8\u00a9]|\\u[dD][89a-fA-F]/;

/** True when the binary string `s` (valid JSON text) can be written out exactly as it is. */
export function isSafe(s: JsonText): boolean {
  return typeof s === 'string' ? !UNSAFE.test(s) : (s as LineBytes).find(UNSAFE_G, 0, UNSAFE_LONGEST) === -1;
}

const UNSAFE_G = new RegExp(UNSAFE.source, 'g');
/** The longest match of UNSAFE: `\\uD8`. */
const UNSAFE_LONGEST = 4;

/** The binary string `s` (valid JSON text), made safe by {@link makeSafe} if it is not. */
export function safe(s: string): string {
  return UNSAFE.test(s) ? safeBinary(s) : s;
}

function hex4(c: number): string {
  return '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
}

function isLowEscape(s: JsonText, i: number): boolean {
  if (s.charCodeAt(i) !== BACKSLASH || (s.charCodeAt(i + 1) | 32) !== 117) return false;
  const a = s.charCodeAt(i + 2) | 32;
  const b = s.charCodeAt(i + 3) | 32;
  return a === 100 && b >= 99 && b <= 102; // DC00-DFFF
}

/**
 * Makes valid JSON text (a real string, not binary; one or more `\n`-ended records) safe for every NDJSON reader:
 * whitespace controls between tokens other than those newlines are dropped, DEL, C1 controls and U+2028/U+2029 inside strings are escaped, and a lone
 * escaped surrogate becomes `\uFFFD`, so every string decodes to well-formed Unicode.
 * Values are otherwise unchanged.
 */
export function makeSafe(s: string): string {
  return fromBinary(safeBinary(toBinary(s)));
}

/** Where text is written a piece at a time (an OutputBuffer, or a list of pieces). */
export interface TextSink {
  /** Appends a binary string. */
  write(s: string): void;
  /** Appends bytes nobody writes over again (of a long line, see line-bytes.ts): they may be kept rather than copied. */
  keep(b: Buffer): void;
}

/** `s[from, to)` written to `out` as it is: a long line's bytes are not made a string first. */
export function writeRange(out: TextSink, s: JsonText, from: number, to: number): void {
  if (typeof s === 'string') out.write(from === 0 && to === s.length ? s : s.slice(from, to));
  else (s as LineBytes).keepInto(out, from, to);
}

/**
 * {@link makeSafe} on a binary string (its UTF-8 bytes, one per character), without decoding
 * it: every character it escapes is ASCII or a fixed UTF-8 sequence (C1 is C2 80-9F, U+2028
 * and U+2029 are E2 80 A8/A9), so a long line is copied once, not decoded, escaped and
 * encoded again (three copies, two of them at two bytes a character).
 */
function safeBinary(s: string): string {
  const parts: string[] = [];
  writeSafe(s, 0, s.length, { write: (p) => void parts.push(p), keep: () => undefined });
  return parts.length === 1 ? parts[0]! : parts.join('');
}

/**
 * `s[from, to)` (valid JSON text, binary, starting outside any string) made safe as
 * {@link makeSafe} does, written to `out` a piece at a time: the safe stretches between
 * escapes go as slices of `s`, so a long line is never copied into a string of its own.
 */
export function writeSafe(s: JsonText, from: number, to: number, out: TextSink): void {
  let inString = false;
  const cut = (i: number, skip: number, add: string): void => {
    if (i > from) writeRange(out, s, from, i);
    if (add !== '') out.write(add);
    from = i + skip;
  };
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!inString) {
      if (c === QUOTE) inString = true;
      else if (c < 32 && c !== 10) cut(i, 1, '');
      continue;
    }
    if (c === QUOTE) {
      inString = false;
    } else if (c === BACKSLASH) {
      const e = s.charCodeAt(i + 1);
      if ((e | 32) === 117 && (s.charCodeAt(i + 2) | 32) === 100) {
        const code = parseInt(s.slice(i + 2, i + 6), 16);
        if (code >= 0xd800 && code <= 0xdbff && isLowEscape(s, i + 6)) {
          i += 11; // a proper pair: keep both escapes
        } else if (code >= 0xd800 && code <= 0xdfff) {
          cut(i, 6, '\\uFFFD');
          i += 5;
        } else {
          i += 5;
        }
      } else {
        i++; // skip the escaped character, which may be a quote
      }
    } else if (c === 0x7f) {
      cut(i, 1, hex4(c));
    } else if (c === 0xc2) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0x80 && d <= 0x9f) {
        cut(i, 2, hex4(d));
        i++;
      }
    } else if (c === 0xe2 && s.charCodeAt(i + 1) === 0x80) {
      const d = s.charCodeAt(i + 2);
      if (d === 0xa8 || d === 0xa9) {
        cut(i, 3, hex4(d === 0xa8 ? 0x2028 : 0x2029));
        i += 2;
      }
    }
  }
  if (to > from) writeRange(out, s, from, to);
}

// A binary string with none of these needs no escaping at all: quotes, backslashes, C0
// controls, DEL, C1 controls and U+2028/U+2029 (as UTF-8 bytes).
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f]|\u00c2[\u0080-\u009f]|\u00e2\u0080[\u00a8\u00a9]/;

/** True when the binary string `s` cannot go between quotes as it is. */
export function needsEscape(s: string): boolean {
  return NEEDS_ESCAPE.test(s);
}

/** A JSON string literal for the binary string `s`, safe for every NDJSON reader. */
export function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? safe(JSON.stringify(s)) : '"' + s + '"';
}

/**
 * Characters {@link writeEscaped} escapes at a time: a long text is not copied whole,
 * escaped. Small enough for what each window makes to die young (a string over about
 * 128 KiB is made in the old generation, and lingers there until a full collection).
 */
const QUOTE_WINDOW = 16 * 1024;

/**
 * What goes between the quotes of {@link quote}`(s)`, written to `out`: `s` itself when it
 * needs no escaping, else escaped a window at a time, each window cut where a UTF-8 sequence
 * begins (every sequence that needs escaping lies inside one window).
 */
export function writeEscaped(out: TextSink, s: string): void {
  if (s.length <= QUOTE_WINDOW) {
    out.write(escaped(s));
    return;
  }
  if (!NEEDS_ESCAPE.test(s)) {
    out.write(s);
    return;
  }
  for (let at = 0; at < s.length; ) {
    let end = Math.min(s.length, at + QUOTE_WINDOW);
    while (end < s.length && (s.charCodeAt(end) & 0xc0) === 0x80) end++;
    out.write(escaped(s.slice(at, end)));
    at = end;
  }
}

/** What goes between the quotes of {@link quote}`(s)`. */
function escaped(s: string): string {
  return NEEDS_ESCAPE.test(s) ? safe(JSON.stringify(s)).slice(1, -1) : s;
}

/** {@link quote}`(s)` written to `out` (see {@link writeEscaped}). */
export function writeQuoted(out: TextSink, s: string): void {
  out.write('"');
  writeEscaped(out, s);
  out.write('"');
}
