import { arrayElements, isSafe, makeSafe, objectMembers, type RawMember } from './json-raw.js';

/** What an output event is: the value of its `kind` field. */
export type Kind = 'result' | 'batch' | 'snapshot' | 'status' | 'unparsed';

/** A JSON object line from osquery, and its kind. */
export type RecordKind = Exclude<Kind, 'unparsed'>;

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Which kind of osquery JSON line `o` is, or null when it is none. Only the fields that
 * tell the shapes apart are looked at; a line missing `hostIdentifier` or `name` is still
 * the kind its shape says.
 */
export function classify(o: Obj): RecordKind | null {
  if (isObject(o.diffResults)) return 'batch';
  // osquery <= 3.1 wrote an empty array as "".
  if (Array.isArray(o.snapshot) || o.snapshot === '') return 'snapshot';
  if (isObject(o.columns) && typeof o.action === 'string') {
    return o.action === 'snapshot' ? 'snapshot' : 'result';
  }
  if (o.severity !== undefined && o.message !== undefined) return 'status';
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

/** Name under which an input's own top-level `kind` member is kept. */
export const INPUT_KIND_FIELD = '_kind';

function needsRewrite(o: Obj, kind: RecordKind): boolean {
  if (o.kind !== undefined) return true;
  for (const k of NUMERIC[kind]) {
    const v = o[k];
    if (typeof v === 'string' && INTEGER.test(v)) return true;
  }
  return false;
}

/** The member `m` of `s` as output text: `"key":value`, numeric envelope strings unquoted. */
function member(s: string, m: RawMember, numeric: ReadonlySet<string>): string {
  if (s.charCodeAt(m.valueStart) === 34 && numeric.has(m.key)) {
    const v = JSON.parse(s.slice(m.valueStart, m.valueEnd)) as string;
    if (INTEGER.test(v)) return s.slice(m.keyStart, m.keyEnd) + ':' + v;
  }
  if (m.key === 'kind') return '"' + INPUT_KIND_FIELD + '":' + s.slice(m.valueStart, m.valueEnd);
  return s.slice(m.keyStart, m.valueEnd);
}

/**
 * One event for the whole line `s` (a JSON object starting at `start`, parsed as `o`):
 * the input's own bytes with `"kind"` put first. Only when a field must change is the
 * line taken apart, and then only into raw member slices.
 */
export function encodeRecord(s: string, start: number, o: Obj, kind: RecordKind): string {
  if (!needsRewrite(o, kind)) {
    const out = '{"kind":"' + kind + '",' + s.slice(start + 1) + '\n';
    return isSafe(s) ? out : makeSafe(out);
  }
  const numeric = NUMERIC[kind];
  let out = '{"kind":"' + kind + '"';
  for (const m of objectMembers(s, start)) out += ',' + member(s, m, numeric);
  out += '}\n';
  return isSafe(out) ? out : makeSafe(out);
}

/** The rows a batch or snapshot line carries, as raw slices, with the action of each. */
interface Rows {
  /** Offsets `[start, end)` of each row, flattened pairs. */
  spans: number[];
  /** The action of each row. */
  actions: string[];
}

function rowsOf(s: string, members: RawMember[], kind: 'batch' | 'snapshot'): Rows {
  const rows: Rows = { spans: [], actions: [] };
  for (const m of members) {
    if (kind === 'snapshot' && m.key === 'snapshot') {
      addRows(s, m, 'snapshot', rows);
    } else if (kind === 'batch' && m.key === 'diffResults') {
      // In the order of the line: osquery writes removed before added.
      for (const side of objectMembers(s, m.valueStart)) {
        if (side.key === 'removed' || side.key === 'added') addRows(s, side, side.key, rows);
      }
    }
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
 * A batch or snapshot line as one event per row, each shaped as osquery's own event
 * format: the line's other members, then `columns` (the row), `action`, `rowIndex`
 * (0-based position in the line) and `rowCount`. Returns '' for a line with no row.
 */
export function encodeRows(s: string, start: number, kind: 'batch' | 'snapshot'): { text: string; rows: number } {
  const members = objectMembers(s, start);
  const rows = rowsOf(s, members, kind);
  const n = rows.actions.length;
  if (n === 0) return { text: '', rows: 0 };
  const numeric = NUMERIC[kind];
  const carrier = kind === 'snapshot' ? 'snapshot' : 'diffResults';
  let head = '{"kind":"' + (kind === 'snapshot' ? 'snapshot' : 'result') + '"';
  for (const m of members) {
    if (m.key !== carrier && !ROW_FIELDS.has(m.key)) head += ',' + member(s, m, numeric);
  }
  head += ',"columns":';
  let out = '';
  for (let i = 0; i < n; i++) {
    out +=
      head +
      s.slice(rows.spans[2 * i]!, rows.spans[2 * i + 1]!) +
      ',"action":"' +
      rows.actions[i]! +
      '","rowIndex":' +
      i +
      ',"rowCount":' +
      n +
      '}\n';
  }
  return { text: isSafe(s) ? out : makeSafe(out), rows: n };
}
