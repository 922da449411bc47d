import { arrayElements, countElements, decodeString, firstElement, isSafe, nextElement, objectMembers, safe, skipValue, writeRange, writeSafe, type JsonText, type RawMember, type TextSink } from './json-raw.js';

/** What an output event is: the value of its `kind` field. */
export type Kind = 'result' | 'batch' | 'snapshot' | 'status' | 'unparsed';

/** A JSON object line from osquery, and its kind. */
export type RecordKind = Exclude<Kind, 'unparsed'>;

/**
 * The shape of an osquery JSON line: a record kind, told apart further where the kind has
 * two shapes (a snapshot line carries rows; a snapshot row, osquery's snapshot event
 * format, is one).
 */
export type Shape = 'result' | 'batch' | 'snapshot' | 'snapshot-row' | 'status';

/** The `kind` of the event for a line of shape `shape`. */
export function kindOf(shape: Shape): RecordKind {
  return shape === 'snapshot-row' ? 'snapshot' : shape;
}

/** The value of member `m`, if it is a JSON string, decoded (binary in, binary out); else null. */
export function stringValue(s: JsonText, m: RawMember): string | null {
  return s.charCodeAt(m.valueStart) === 34 ? decodeString(s, m.valueStart, m.valueEnd) : null;
}

/**
 * Which shape of osquery JSON line the members of `s` make, or null when none. Only the
 * fields that tell the shapes apart are looked at; a line missing `hostIdentifier` or `name`
 * is still the kind its shape says. As with JSON.parse, the last of duplicate keys counts.
 */
export function classify(s: JsonText, members: RawMember[]): Shape | null {
  let diffResults = 0;
  let snapshot = 0;
  let columns = 0;
  let action: RawMember | null = null;
  let severity = false;
  let message = false;
  for (const m of members) {
    const first = s.charCodeAt(m.valueStart);
    switch (m.key) {
      case 'diffResults':
        diffResults = first;
        break;
      case 'snapshot':
        // osquery <= 3.1 wrote an empty array as "".
        snapshot = first === 34 && m.valueEnd - m.valueStart === 2 ? 91 : first;
        break;
      case 'columns':
        columns = first;
        break;
      case 'action':
        action = m;
        break;
      case 'severity':
        severity = true;
        break;
      case 'message':
        message = true;
        break;
    }
  }
  if (diffResults === 123) return 'batch';
  if (snapshot === 91) return 'snapshot';
  const act = action === null ? null : stringValue(s, action);
  if (columns === 123 && act !== null) return act === 'snapshot' ? 'snapshot-row' : 'result';
  if (severity && message) return 'status';
  return null;
}

/**
 * Envelope fields emitted as JSON numbers whatever osquery version wrote them, so the
 * output has one type per field across a mixed fleet.
 */
const NUMERIC: Record<RecordKind, ReadonlySet<string>> = {
  result: new Set(['unixTime', 'epoch', 'counter']),
  batch: new Set(['unixTime', 'epoch', 'counter']),
  snapshot: new Set(['unixTime', 'epoch', 'counter']),
  status: new Set(['unixTime', 'severity', 'line']),
};

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

/** Members oqfwd writes itself on a row event; same-named line members give way, as in osquery. */
const ROW_FIELDS = new Set(['columns', 'action', 'rowIndex', 'rowCount']);

/** Name under which an input's own top-level `kind` member is kept (see {@link kindField}). */
export const INPUT_KIND_FIELD = '_kind';

/**
 * Where the input's own `kind` goes: `_kind`, or with one more `_` for each name of that form
 * the line has already, so that it never lands on a member of the line.
 */
function kindField(members: RawMember[]): string {
  let name = INPUT_KIND_FIELD;
  while (members.some((m) => m.key === name)) name = '_' + name;
  return name;
}

/**
 * True when the event for the line is the line itself with `kind` put first: it has no
 * `kind` of its own and no envelope number written as a string.
 */
export function canSplice(s: JsonText, members: RawMember[], kind: RecordKind): boolean {
  const numeric = NUMERIC[kind];
  for (const m of members) {
    if (m.key === 'kind') return false;
    if (numeric.has(m.key) && s.charCodeAt(m.valueStart) === 34 && INTEGER.test(stringValue(s, m)!)) return false;
  }
  return true;
}

/**
 * What the member `m` of `s` becomes in the output when it must change: numeric envelope
 * strings unquoted, the input's `kind` under `kind` (see {@link kindField}); null when it
 * goes as it is.
 */
function changed(s: JsonText, m: RawMember, numeric: ReadonlySet<string>, kind: string): string | null {
  if (numeric.has(m.key)) {
    const v = stringValue(s, m);
    if (v !== null && INTEGER.test(v)) return s.slice(m.keyStart, m.keyEnd) + ':' + v;
  }
  if (m.key === 'kind') return '"' + kind + '":' + s.slice(m.valueStart, m.valueEnd);
  return null;
}

/** The member `m` of `s` as output text, `"key":value` (see {@link changed}). */
function member(s: JsonText, m: RawMember, numeric: ReadonlySet<string>, kind: string): string {
  return changed(s, m, numeric, kind) ?? s.slice(m.keyStart, m.valueEnd);
}

/**
 * One event for the whole line `s` (a binary string, see lines.ts, holding a JSON object
 * that starts at `start`, with the top-level `members` found by the scanner), written to
 * `out`: the input's own bytes with `"kind"` put first. Only when a field must change is the
 * line taken apart, and then only into raw member slices. `clean`: `s` is known to be
 * {@link isSafe} (default: it is tested). What needs escaping is escaped on the way out, so
 * a long line is not copied into a string of its own first.
 */
export function writeRecord(out: TextSink, s: JsonText, start: number, members: RawMember[], kind: RecordKind, extra = '', clean = isSafe(s)): void {
  const put = clean ? (from: number, to: number): void => writeRange(out, s, from, to) : (from: number, to: number): void => writeSafe(s, from, to, out);
  out.write('{"kind":"' + kind + '"' + extra);
  if (canSplice(s, members, kind)) {
    out.write(',');
    put(start + 1, s.length);
    out.write('\n');
    return;
  }
  const numeric = NUMERIC[kind];
  const own = kindField(members);
  for (const m of members) {
    out.write(',');
    const c = changed(s, m, numeric, own);
    if (c === null) put(m.keyStart, m.valueEnd);
    else if (clean) out.write(c);
    else writeSafe(c, 0, c.length, out);
  }
  out.write('}\n');
}

/**
 * Per-row selection and added members (see shape.ts): for the row at `index` (-1 for the one
 * event of a line without rows) with `action` (null for an empty batch) and its JSON text,
 * the members to put after `kind`, or null to leave the row out.
 */
export type RowShape = (action: string | null, index: number, row: string) => string | null;

/** An array of rows in a batch or snapshot line: where it is, the action of its rows, how many. */
interface Side {
  /** Offset of its `[`. */
  start: number;
  action: string;
  count: number;
  /**
   * The rows' `[start, end)` offsets, pairs in a row, found in one pass; null for a long
   * line (line-bytes.ts), whose rows are counted first and found one by one as they are
   * written, as a list of them would cost memory in proportion to the line.
   */
  spans: number[] | null;
}

/** The last member of `members` named `key` (JSON.parse and osquery keep the last of duplicates). */
function last(members: RawMember[], key: string): RawMember | null {
  for (let i = members.length - 1; i >= 0; i--) if (members[i]!.key === key) return members[i]!;
  return null;
}

/** The arrays of rows of the line, in line order. */
function sidesOf(s: JsonText, members: RawMember[], kind: 'batch' | 'snapshot'): Side[] {
  const carrier = last(members, kind === 'snapshot' ? 'snapshot' : 'diffResults');
  if (carrier === null) return [];
  let found: Array<[RawMember, string]> = [];
  if (kind === 'snapshot') {
    found = [[carrier, 'snapshot']];
  } else if (s.charCodeAt(carrier.valueStart) === 123) {
    // In the order of the line: osquery writes removed before added.
    const sides = objectMembers(s, carrier.valueStart);
    for (const side of [last(sides, 'removed'), last(sides, 'added')]) if (side !== null) found.push([side, side.key]);
    found.sort((a, b) => a[0].keyStart - b[0].keyStart);
  }
  // "" is osquery <= 3.1's empty array.
  return found
    .filter(([m]) => s.charCodeAt(m.valueStart) === 91)
    .map(([m, action]) => {
      const spans = typeof s === 'string' ? arrayElements(s, m.valueStart) : null;
      return { start: m.valueStart, action, count: spans === null ? countElements(s, m.valueStart) : spans.length / 2, spans };
    });
}

/**
 * A batch or snapshot line as one event per row, each shaped as osquery's own event format:
 * the line's other members, then `columns` (the row), `action`, `rowIndex` (0-based
 * position in the line) and `rowCount`. Rows are made one at a time, so a line of a million
 * rows can be written out in bounded pieces.
 */
export class RowWriter {
  /** Rows in the line. */
  readonly rows: number;
  /** Events it makes: one per row, or one that says the set is empty. */
  readonly events: number;
  private next = 0;
  private readonly sides: Side[];
  /** The side the next row is in, its index there, and where it starts in a long line (-1: not known yet). */
  private side = 0;
  private row = 0;
  private at = -1;
  /** The line's members then `,"columns":`. */
  private readonly head: string;
  /** `open` then `head`: what a row event without added members begins with. */
  private readonly openHead: string;
  private readonly tail: string;
  private readonly clean: boolean;
  /** The line's members as they follow `kind` in each event. */
  private readonly members: string;
  /** `{"kind":"…"`, what each event begins with. */
  private readonly open: string;
  private readonly kind: 'batch' | 'snapshot';

  constructor(
    private readonly s: JsonText,
    members: RawMember[],
    kind: 'batch' | 'snapshot',
    private readonly shape: RowShape | null = null,
  ) {
    this.sides = sidesOf(s, members, kind);
    this.rows = this.sides.reduce((n, side) => n + side.count, 0);
    this.clean = isSafe(s);
    const numeric = NUMERIC[kind];
    const carrier = kind === 'snapshot' ? 'snapshot' : 'diffResults';
    this.open = '{"kind":"' + (kind === 'snapshot' ? 'snapshot' : 'result') + '"';
    let head = '';
    const own = kindField(members);
    for (const m of members) {
      if (m.key !== carrier && !ROW_FIELDS.has(m.key)) head += ',' + member(s, m, numeric, own);
    }
    // Made safe once here: each piece of an event is whole JSON members, so escaping the
    // pieces one by one is escaping the event.
    if (!this.clean) head = safe(head);
    this.members = head;
    this.kind = kind;
    this.head = head + ',"columns":';
    this.openHead = this.open + this.head;
    this.tail = ',"rowCount":' + this.rows + '}\n';
    this.events = Math.max(this.rows, 1);
  }

  /** True once every event was written. */
  get done(): boolean {
    return this.next >= this.events;
  }

  /**
   * Writes the event for the next row (or the one event of a line with none) to `out`,
   * piece by piece (the row from the line as it is); false when the shape leaves it out.
   */
  write(out: TextSink): boolean {
    if (this.rows === 0) {
      // An empty snapshot means "the query ran and the set is empty now": a consumer must be
      // able to tell that from "it did not run". An empty batch (no change) says so too:
      // the line's members, `rowCount: 0`, no `columns`.
      this.next++;
      const snapshot = this.kind === 'snapshot';
      const extra = this.shape === null ? '' : this.shape(snapshot ? 'snapshot' : null, -1, '');
      if (extra === null) return false;
      out.write(this.open + extra + this.members + (snapshot ? ',"action":"snapshot"' : '') + ',"rowCount":0}\n');
      return true;
    }
    const i = this.next++;
    const s = this.s;
    while (this.row >= this.sides[this.side]!.count) {
      this.side++;
      this.row = 0;
      this.at = -1;
    }
    const side = this.sides[this.side]!;
    let from: number;
    let to: number;
    if (side.spans !== null) {
      from = side.spans[2 * this.row]!;
      to = side.spans[2 * this.row + 1]!;
    } else {
      from = this.at === -1 ? firstElement(s, side.start) : this.at;
      to = skipValue(s, from);
      this.at = nextElement(s, to);
    }
    this.row++;
    const action = side.action;
    if (this.shape === null) {
      out.write(this.openHead);
    } else {
      const extra = this.shape(action, i, s.slice(from, to));
      if (extra === null) return false;
      out.write(this.open + extra + this.head);
    }
    if (this.clean) writeRange(out, s, from, to);
    else writeSafe(s, from, to, out);
    out.write(',"action":"' + action + '","rowIndex":' + i + this.tail);
    return true;
  }
}
