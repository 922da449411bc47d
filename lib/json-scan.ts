import { decodeString, skipSpace, type JsonText, type RawMember } from './json-raw.js';
import type { LineBytes } from './line-bytes.js';

/**
 * A validating JSON scanner for one object per line, in one pass and without building
 * values: it accepts exactly what `JSON.parse` accepts (a differential test holds it to
 * that) and returns the top-level members as offsets. oqfwd needs no more than that to
 * recognise and forward a line, and `JSON.parse` would spend most of its time building
 * objects that are thrown away.
 *
 * It works on binary strings (see lines.ts), or a long line's bytes read as one
 * (line-bytes.ts), that are valid UTF-8. A raw control character (U+0000-U+001F) is white
 * space between tokens or an error inside a string, as for JSON.parse; a caller that knows
 * a line has none says so, and the line is not searched for them. Nesting depth costs no stack: the scanner keeps its own.
 */

const QUOTE = 34;
const BACKSLASH = 92;

// Offset of the next backslash at or after the last place looked, or Infinity when there is
// none: most lines have no backslash, and looking again for every string would make the
// scan quadratic. Reset for each text scanned.
let nextBackslash = -1;
// The same for raw control characters, which may stand between tokens but not in a string.
let nextControl = -1;
const CONTROL = /[\u0000-\u001f]/g;

/** The offset of the first raw control character at or after `from`, or Infinity. */
function controlAt(s: JsonText, from: number): number {
  if (typeof s !== 'string') {
    const at = (s as LineBytes).find(CONTROL, from, 1);
    return at === -1 ? Infinity : at;
  }
  CONTROL.lastIndex = from;
  return CONTROL.exec(s)?.index ?? Infinity;
}

/** Where the string starting at the quote `i` ends (past its closing quote), or -1. */
function scanString(s: JsonText, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = s.indexOf('"', j);
    if (q === -1) return -1;
    if (nextBackslash < j) {
      nextBackslash = s.indexOf('\\', j);
      if (nextBackslash === -1) nextBackslash = Infinity;
    }
    const b = nextBackslash;
    if (b > q) {
      if (nextControl <= i) nextControl = controlAt(s, i + 1);
      return nextControl < q ? -1 : q + 1;
    }
    // An escape before the quote: check it, then go on after it.
    const e = s.charCodeAt(b + 1);
    if (e === 117) {
      // \uXXXX
      for (let k = b + 2; k < b + 6; k++) {
        const h = s.charCodeAt(k) | 32;
        if (!((h >= 48 && h <= 57) || (h >= 97 && h <= 102))) return -1;
      }
      j = b + 6;
    } else if (e === QUOTE || e === BACKSLASH || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116) {
      j = b + 2;
    } else {
      return -1;
    }
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Where the number starting at `i` ends, or -1. */
function scanNumber(s: JsonText, i: number): number {
  if (s.charCodeAt(i) === 45) i++; // -
  const c = s.charCodeAt(i);
  if (c === 48) i++;
  else if (c >= 49 && c <= 57) while (isDigit(s.charCodeAt(++i)));
  else return -1;
  if (s.charCodeAt(i) === 46) {
    // .
    if (!isDigit(s.charCodeAt(++i))) return -1;
    while (isDigit(s.charCodeAt(++i)));
  }
  const e = s.charCodeAt(i) | 32;
  if (e === 101) {
    // e E
    const sign = s.charCodeAt(++i);
    if (sign === 43 || sign === 45) i++;
    if (!isDigit(s.charCodeAt(i))) return -1;
    while (isDigit(s.charCodeAt(++i)));
  }
  return i;
}


/** A member's key and colon at `i`: where its value starts, or -1. */
function scanKey(s: JsonText, i: number): number {
  if (s.charCodeAt(i) !== QUOTE) return -1;
  i = scanString(s, i);
  if (i === -1) return -1;
  i = skipSpace(s, i);
  if (s.charCodeAt(i) !== 58) return -1;
  return skipSpace(s, i + 1);
}

/** Where the value starting at `i` ends, or -1 when it is not valid JSON. */
export function scanValue(s: JsonText, i: number): number {
  nextBackslash = -1;
  nextControl = -1;
  return value(s, i);
}

function value(s: JsonText, i: number): number {
  // The stack of open containers: true for an object, false for an array.
  const stack: boolean[] = [];
  for (;;) {
    // At the start of a value.
    let c = s.charCodeAt(i);
    if (c === QUOTE) {
      i = scanString(s, i);
      if (i === -1) return -1;
    } else if (c === 123 || c === 91) {
      const isObject = c === 123;
      i = skipSpace(s, i + 1);
      c = s.charCodeAt(i);
      if (c === (isObject ? 125 : 93)) {
        i++; // empty container: a complete value
      } else {
        stack.push(isObject);
        if (isObject && (i = scanKey(s, i)) === -1) return -1;
        continue; // its first value
      }
    } else if (c === 116) {
      if (!s.startsWith('true', i)) return -1;
      i += 4;
    } else if (c === 102) {
      if (!s.startsWith('false', i)) return -1;
      i += 5;
    } else if (c === 110) {
      if (!s.startsWith('null', i)) return -1;
      i += 4;
    } else {
      i = scanNumber(s, i);
      if (i === -1) return -1;
    }
    // After a value: close containers, or move on to the next member or element.
    for (;;) {
      if (stack.length === 0) return i;
      i = skipSpace(s, i);
      c = s.charCodeAt(i);
      const inObject = stack[stack.length - 1]!;
      if (c === 44) {
        i = skipSpace(s, i + 1);
        if (inObject && (i = scanKey(s, i)) === -1) return -1;
        break; // the next value
      }
      if (c !== (inObject ? 125 : 93)) return -1;
      stack.pop();
      i++;
    }
  }
}


/**
 * The top-level members of the line `s` if it is exactly one JSON object (from `start`,
 * optionally followed by white space), else null. `noControls`: the caller knows `s` has
 * no raw control character (default false: it is searched for them, once).
 */
export function scanObjectLine(s: JsonText, start: number, noControls = false): RawMember[] | null {
  nextBackslash = -1;
  nextControl = noControls ? Infinity : -1;
  if (s.charCodeAt(start) !== 123) return null;
  const out: RawMember[] = [];
  let i = skipSpace(s, start + 1);
  if (s.charCodeAt(i) === 125) {
    i++;
  } else {
    for (;;) {
      if (s.charCodeAt(i) !== QUOTE) return null;
      const keyStart = i;
      const keyEnd = scanString(s, i);
      if (keyEnd === -1) return null;
      i = skipSpace(s, keyEnd);
      if (s.charCodeAt(i) !== 58) return null;
      const valueStart = skipSpace(s, i + 1);
      const valueEnd = value(s, valueStart);
      if (valueEnd === -1) return null;
      out.push({ key: decodeString(s, keyStart, keyEnd), keyStart, keyEnd, valueStart, valueEnd });
      i = skipSpace(s, valueEnd);
      const c = s.charCodeAt(i);
      if (c === 125) {
        i++;
        break;
      }
      if (c !== 44) return null;
      i = skipSpace(s, i + 1);
    }
  }
  return skipSpace(s, i) === s.length ? out : null;
}
