import { arrayElements, decodeString, isSafe, objectMembers, safe, writeSafe, type RawMember, type TextSink } from './json-raw.js';

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
export function stringValue(s: string, m: RawMember): string | null {
  return s.charCodeAt(m.valueStart) === 34 ? decodeString(s, m.valueStart, m.valueEnd) : null;
}

/**
 * Which shape of osquery JSON line the members of `s` make, or null when none. Only the
 * fields that tell the shapes apart are looked at; a line missing `hostIdentifier` or `name`
 * is still the kind its shape says. As with JSON.parse, the last of duplicate keys counts.
 */
export function classify(s: string, members: RawMember[]): Shape | null {
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
export function canSplice(s: string, members: RawMember[], kind: RecordKind): boolean {
  const numeric = NUMERIC[kind];
  for (const m of members) {
    if (m.key === 'kind') return false;
    if (numeric.has(m.key) && s.charCodeAt(m.valueStart) === 34 && INTEGER.test(stringValue(s, m)!)) return false;
  }
  return true;
}

/**
 * The member `m` of `s` as output text: `"key":value`, numeric envelope strings unquoted,
 * the input's `kind` under `kind` (see {@link kindField}).
 */
function member(s: string, m: RawMember, numeric: ReadonlySet<string>, kind: string): string {
  if (numeric.has(m.key)) {
    const v = stringValue(s, m);
    if (v !== null && INTEGER.test(v)) return s.slice(m.keyStart, m.keyEnd) + ':' + v;
  }
  if (m.key === 'kind') return '"' + kind + '":' + s.slice(m.valueStart, m.valueEnd);
  return s.slice(m.keyStart, m.valueEnd);
}

/**
 * One event for the whole line `s` (a binary string, see lines.ts, holding a JSON object
 * that starts at `start`, with the top-level `members` found by the scanner), written to
 * `out`: the input's own bytes with `"kind"` put first. Only when a field must change is the
 * line taken apart, and then only into raw member slices. `clean`: `s` is known to be
 * {@link isSafe} (default: it is tested). What needs escaping is escaped on the way out, so
 * a long line is not copied into a string of its own first.
 */
export function writeRecord(out: TextSink, s: string, start: number, members: RawMember[], kind: RecordKind, extra = '', clean = isSafe(s)): void {
  const put = clean ? (t: string): void => out.write(t) : (t: string): void => writeSafe(t, 0, t.length, out);
  out.write('{"kind":"' + kind + '"' + extra);
  if (canSplice(s, members, kind)) {
    out.write(',');
    if (clean) out.write(s.slice(start + 1));
    else writeSafe(s, start + 1, s.length, out);
    out.write('\n');
    return;
  }
  const numeric = NUMERIC[kind];
  const own = kindField(members);
  for (const m of members) put(',' + member(s, m, numeric, own));
  out.write('}\n');
}

/**
 * Per-row selection and added members (see shape.ts): for the row at `index` (-1 for the one
 * event of a line without rows) with `action` (null for an empty batch) and its JSON text,
 * the members to put after `kind`, or null to leave the row out.
 */
export type RowShape = (action: string | null, index: number, row: string) => string | null;

/** The rows a batch or snapshot line carries, as raw slices, with the action of each. */
interface Rows {
  /** Offsets `[start, end)` of each row, flattened pairs. */
  spans: number[];
  /** The action of each row. */
  actions: string[];
}

/** The last member of `members` named `key` (JSON.parse and osquery keep the last of duplicates). */
function last(members: RawMember[], key: string): RawMember | null {
  for (let i = members.length - 1; i >= 0; i--) if (members[i]!.key === key) return members[i]!;
  return null;
}

function rowsOf(s: string, members: RawMember[], kind: 'batch' | 'snapshot'): Rows {
  const rows: Rows = { spans: [], actions: [] };
  const carrier = last(members, kind === 'snapshot' ? 'snapshot' : 'diffResults');
  if (carrier === null) return rows;
  if (kind === 'snapshot') {
    addRows(s, carrier, 'snapshot', rows);
  } else if (s.charCodeAt(carrier.valueStart) === 123) {
    // In the order of the line: osquery writes removed before added.
    const sides = objectMembers(s, carrier.valueStart);
    const removed = last(sides, 'removed');
    const added = last(sides, 'added');
    for (const side of [removed, added].filter((x) => x !== null).sort((a, b) => a.keyStart - b.keyStart)) addRows(s, side, side.key, rows);
  }
  return rows;
}

function addRows(s: string, m: RawMember, action: string, rows: Rows): void {
  if (s.charCodeAt(m.valueStart) !== 91) return; // "" is osquery <= 3.1's empty array
  const spans = arrayElements(s, m.valueStart);
  for (let i = 0; i < spans.length; i += 2) {
    rows.spans.push(spans[i]!, spans[i + 1]!);
    rows.actions.push(action);
  }
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
  private readonly spans: number[];
  private readonly actions: string[];
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
    private readonly s: string,
    members: RawMember[],
    kind: 'batch' | 'snapshot',
    private readonly shape: RowShape | null = null,
  ) {
    const rows = rowsOf(s, members, kind);
    this.spans = rows.spans;
    this.actions = rows.actions;
    this.rows = rows.actions.length;
    const numeric = NUMERIC[kind];
    const carrier = kind === 'snapshot' ? 'snapshot' : 'diffResults';
    this.open = '{"kind":"' + (kind === 'snapshot' ? 'snapshot' : 'result') + '"';
    let head = '';
    const own = kindField(members);
    for (const m of members) {
      if (m.key !== carrier && !ROW_FIELDS.has(m.key)) head += ',' + member(s, m, numeric, own);
    }
    this.members = head;
    this.kind = kind;
    this.head = head + ',"columns":';
    this.openHead = this.open + this.head;
    this.tail = ',"rowCount":' + this.rows + '}\n';
    this.clean = isSafe(s);
    this.events = Math.max(this.rows, 1);
  }

  /** True once every event was written. */
  get done(): boolean {
    return this.next >= this.events;
  }

  /** The event for the next row (or the one event of a line with none); null when the shape leaves it out. */
  event(): string | null {
    if (this.rows === 0) {
      // An empty snapshot means "the query ran and the set is empty now": a consumer must be
      // able to tell that from "it did not run". An empty batch (no change) says so too:
      // the line's members, `rowCount: 0`, no `columns`.
      this.next++;
      const snapshot = this.kind === 'snapshot';
      const extra = this.shape === null ? '' : this.shape(snapshot ? 'snapshot' : null, -1, '');
      if (extra === null) return null;
      const e = this.open + extra + this.members + (snapshot ? ',"action":"snapshot"' : '') + ',"rowCount":0}\n';
      return this.clean ? e : safe(e);
    }
    const i = this.next++;
    const row = this.s.slice(this.spans[2 * i]!, this.spans[2 * i + 1]!);
    const action = this.actions[i]!;
    let head = this.openHead;
    if (this.shape !== null) {
      const extra = this.shape(action, i, row);
      if (extra === null) return null;
      head = this.open + extra + this.head;
    }
    const e = head + row + ',"action":"' + action + '","rowIndex":' + i + this.tail;
    return this.clean ? e : safe(e);
  }
}
