import { createHash, hash } from 'node:crypto';
import { jsonString, quote, toBinary, type JsonText, type RawMember } from './json-raw.js';
import { stringValue, type Kind } from './record.js';

/**
 * Which events are written (--kind, --query, --min-severity, --action) and what is added
 * to each (--add-field, --timestamp, --event-id). Nothing here rewrites a field of osquery's:
 * added fields go right after `kind`, and a line that has a member of the same name keeps
 * its own.
 */
export interface ShapeOptions {
  /** Event kinds written (--kind); null writes every kind. Default null. */
  kinds: ReadonlySet<Kind> | null;
  /** Query names written (--query, globs, any of them); null writes every event. Default null. */
  queries: string[] | null;
  /** Status events below this severity are left out (--min-severity): 0 info to 3 fatal. Default 0. */
  minSeverity: number;
  /** Actions written (--action); null writes every event. Default null. */
  actions: ReadonlySet<string> | null;
  /** Fields added to every event (--add-field KEY=VALUE), in order, values as strings. Default none. */
  fields: Array<[string, string]>;
  /** Field that gets the event's time, ISO 8601 in UTC (--timestamp); null adds none. Default null. */
  timestamp: string | null;
  /** Field that gets the event's id (--event-id, see {@link eventId}); null adds none. Default null. */
  eventId: string | null;
}

/** Shaping that does nothing: what a run without those flags gets. */
export const NO_SHAPING: ShapeOptions = { kinds: null, queries: null, minSeverity: 0, actions: null, fields: [], timestamp: null, eventId: null };

/** --min-severity's names, in glog's order (osquery's `severity` numbers). */
export const SEVERITIES = ['info', 'warning', 'error', 'fatal'] as const;

/** The values --action takes. */
export const ACTIONS = ['added', 'removed', 'snapshot'] as const;

/** The values --kind takes: the `kind` of the events written. */
export const KINDS: readonly Kind[] = ['result', 'batch', 'snapshot', 'status', 'unparsed'];

/** Default field names of --timestamp and --event-id. */
export const TIMESTAMP_FIELD = '@timestamp';
export const EVENT_ID_FIELD = 'event_id';

/**
 * Fields oqfwd writes on events whose shape it makes itself (status records from text,
 * unparsed lines, flattened rows): an added field may not take one of these names. A JSON
 * line's own members are checked line by line instead.
 */
export const RESERVED = ['kind', 'hostIdentifier', 'calendarTime', 'unixTime', 'time', 'severity', 'filename', 'line', 'message', 'threadId', 'file', 'reason', 'raw', 'columns', 'action', 'rowIndex', 'rowCount'];

/** A shell glob (`*`, `?`, `[...]`, `[!...]`, `\x`) as an anchored regular expression; `*` crosses `/`. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '\\' && i + 1 < glob.length) re += escapeRe(glob[++i]!);
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) {
        re += '\\[';
        continue;
      }
      let set = glob.slice(i + 1, close);
      const negate = set.startsWith('!') || set.startsWith('^');
      if (negate) set = set.slice(1);
      re += '[' + (negate ? '^' : '') + set.replace(/[\\\]^]/g, '\\$&') + ']';
      i = close;
    } else re += escapeRe(c);
  }
  return new RegExp('^(?:' + re + ')$', 's');
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** A part of what an event id is over: a binary string, or a long line's bytes in pieces (see line-bytes.ts). */
export type IdPart = string | readonly Uint8Array[];

/**
 * The event id: the first 128 bits, in lowercase hex, of SHA-256 over `parts` (each a JSON
 * text as a binary string, so none holds a raw newline), each followed by `\n`. The man
 * page's EVENT IDS section says which parts each kind of event has.
 */
export function eventId(parts: readonly IdPart[]): string {
  let n = 0;
  for (const p of parts) n += (typeof p === 'string' ? p.length : p.reduce((k, b) => k + b.length, 0)) + 1;
  if (n > idBuffer.length) {
    // A long line: hashed piece by piece, not copied into one buffer first.
    const h = createHash('sha256');
    for (const p of parts) {
      if (typeof p === 'string') h.update(p, 'latin1');
      else for (const b of p) h.update(b);
      h.update(NEWLINE);
    }
    return h.digest('hex').slice(0, 32);
  }
  // Binary strings hold one byte per char: written as those bytes, not re-encoded as UTF-8,
  // into one buffer kept for the purpose (no string built, no buffer made per event).
  let at = 0;
  for (const p of parts) {
    if (typeof p === 'string') {
      at += idBuffer.latin1Write(p, at);
    } else {
      for (const b of p) {
        idBuffer.set(b, at);
        at += b.length;
      }
    }
    idBuffer[at++] = 10;
  }
  return hash('sha256', idBuffer.subarray(0, at), 'hex').slice(0, 32);
}

/** Where {@link eventId} puts the parts it hashes at once; longer ones are hashed in pieces. */
const idBuffer = Buffer.allocUnsafe(64 * 1024) as Latin1Buffer;
const NEWLINE = Buffer.from('\n');

/** Buffer#latin1Write: in every Node release, not in the documentation (see output-buffer.ts). */
type Latin1Buffer = Buffer & { latin1Write(s: string, offset: number): number };

/** ISO 8601 in UTC of a time in seconds, with `micros` when known; null when no date can hold it. */
export function isoTime(seconds: number, micros: number | null = null): string | null {
  const whole = Math.floor(seconds);
  if (!Number.isFinite(whole) || Math.abs(whole) > 8.64e12) return null;
  const us = micros ?? (seconds === whole ? null : Math.min(999999, Math.round((seconds - whole) * 1e6)));
  // toISOString() ends in `.sssZ`; years past 9999 come as +YYYYYY, still ISO 8601.
  return new Date(whole * 1000).toISOString().slice(0, -5) + (us === null ? '' : '.' + String(us).padStart(6, '0')) + 'Z';
}

/** The names among `names` (a few) that a line's members already have; null when none (the usual case). */
export function clashes(names: readonly string[], members: ReadonlyArray<{ key: string }>): Set<string> | null {
  if (names.length === 0) return null;
  let own: Set<string> | null = null;
  // Plain comparisons: a string compare fails on the length at once; a Set would hash every key.
  for (const m of members) for (const n of names) if (m.key === n) (own ??= new Set()).add(n);
  return own;
}

/** The members of a JSON line that shaping looks at: the last of each name, or null. */
export interface LineFacts {
  hostIdentifier: RawMember | null;
  name: RawMember | null;
  epoch: RawMember | null;
  counter: RawMember | null;
  unixTime: RawMember | null;
  action: RawMember | null;
  severity: RawMember | null;
}

export function lineFacts(members: RawMember[]): LineFacts {
  const f: LineFacts = { hostIdentifier: null, name: null, epoch: null, counter: null, unixTime: null, action: null, severity: null };
  // By length first: most members are none of these, and a length is one load.
  for (const m of members) {
    const k = m.key;
    switch (k.length) {
      case 4:
        if (k === 'name') f.name = m;
        break;
      case 5:
        if (k === 'epoch') f.epoch = m;
        break;
      case 6:
        if (k === 'action') f.action = m;
        break;
      case 7:
        if (k === 'counter') f.counter = m;
        break;
      case 8:
        if (k === 'unixTime') f.unixTime = m;
        else if (k === 'severity') f.severity = m;
        break;
      case 14:
        if (k === 'hostIdentifier') f.hostIdentifier = m;
    }
  }
  return f;
}

/** The JSON text of member `m` of `s`, or the empty string when there is none. */
export function rawOf(s: JsonText, m: RawMember | null): string {
  return m === null ? '' : s.slice(m.valueStart, m.valueEnd);
}

/** A string member decoded to text (for globs), or null when absent or not a string. */
export function textOf(s: JsonText, m: RawMember | null): string | null {
  return m === null || s.charCodeAt(m.valueStart) !== 34 ? null : jsonString(s, m.valueStart, m.valueEnd);
}

/** A member holding a number, or a string of one (osquery <= 3.1, status <= 5.9); NaN when neither. */
export function numberOf(s: JsonText, m: RawMember | null): number {
  if (m === null) return NaN;
  const raw = s.charCodeAt(m.valueStart) === 34 ? stringValue(s, m)! : s.slice(m.valueStart, m.valueEnd);
  return /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$/.test(raw) ? Number(raw) : NaN;
}

/** "00" to "99". */
const TWO = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/** Decides, per event, whether it is written, and what it gets added. */
export class Shaper {
  /** Any selection asked for: when false, every event is written. */
  readonly selects: boolean;
  /** Any field to add: when false, events are written as they are. */
  readonly enriches: boolean;
  /** The names of the fields added, to tell a line's own members of that name. */
  readonly names: readonly string[];
  private readonly queries: RegExp | null;
  /** The --add-field members, ready to write: `,"k":"v"`... (binary). */
  private readonly constant: string;
  private readonly timeKey: string;
  private readonly idKey: string;
  /** The day (since the epoch) whose date {@link date} holds. */
  private day = NaN;
  private date = '';

  constructor(readonly opts: ShapeOptions) {
    this.selects = opts.kinds !== null || opts.queries !== null || opts.minSeverity > 0 || opts.actions !== null;
    this.enriches = opts.fields.length > 0 || opts.timestamp !== null || opts.eventId !== null;
    this.queries = opts.queries === null ? null : new RegExp(opts.queries.map((g) => globToRegExp(g).source).join('|'), 's');
    this.constant = opts.fields.map(([k, v]) => ',' + quote(toBinary(k)) + ':' + quote(toBinary(v))).join('');
    this.timeKey = opts.timestamp === null ? '' : ',' + quote(toBinary(opts.timestamp)) + ':"';
    this.idKey = opts.eventId === null ? '' : ',' + quote(toBinary(opts.eventId)) + ':"';
    this.names = [...new Set([...opts.fields.map(([k]) => k), ...(opts.timestamp === null ? [] : [opts.timestamp]), ...(opts.eventId === null ? [] : [opts.eventId])])];
  }

  /** Whether the kind and the query name (decoded, or null for none) are selected. */
  keepQuery(kind: Kind, name: string | null): boolean {
    const o = this.opts;
    if (o.kinds !== null && !o.kinds.has(kind)) return false;
    return this.queries === null || (name !== null && this.queries.test(name));
  }

  /** Whether an action (null: the event has none, such as a batch not flattened) is selected. */
  keepAction(action: string | null): boolean {
    const a = this.opts.actions;
    return a === null || (action !== null && a.has(action));
  }

  /** Whether a status event of `severity` is selected. */
  keepSeverity(severity: number): boolean {
    // An unknown severity (NaN) is not known to reach the minimum.
    return this.opts.minSeverity === 0 || severity >= this.opts.minSeverity;
  }

  /** Whether events are selected by query name: only then is the name decoded. */
  get byName(): boolean {
    return this.queries !== null;
  }

  /** Whether --event-id is asked for: only then are the parts of an id gathered. */
  get ids(): boolean {
    return this.opts.eventId !== null;
  }

  /** Whether --timestamp is asked for. */
  get times(): boolean {
    return this.opts.timestamp !== null;
  }

  /**
   * The ISO time of `seconds`, as {@link isoTime} writes it. The date is made once a day
   * and the time of day from digits: a Date per event costs more than the rest of the event.
   */
  iso(seconds: number, micros: number | null = null): string | null {
    if (!Number.isInteger(seconds)) return isoTime(seconds, micros);
    const day = Math.floor(seconds / 86400);
    if (day !== this.day) {
      const date = isoTime(day * 86400);
      if (date === null) return null;
      this.day = day;
      this.date = date.slice(0, -9); // YYYY-MM-DDT
    }
    const t = seconds - day * 86400;
    const hms = TWO[Math.floor(t / 3600)]! + ':' + TWO[Math.floor(t / 60) % 60]! + ':' + TWO[t % 60]!;
    return this.date + hms + (micros === null ? '' : '.' + String(micros).padStart(6, '0')) + 'Z';
  }

  /**
   * The members added to one event, each as `,"key":value` (binary): the time (null: the
   * event has none) and the id parts (null: no id), less any name in `own` (the line's own
   * members, which stay as they are).
   */
  fields(time: string | null, idParts: readonly IdPart[] | null, own: ReadonlySet<string> | null = null): string {
    let out = '';
    if (time !== null && this.timeKey !== '' && own?.has(this.opts.timestamp!) !== true) out += this.timeKey + time + '"';
    if (idParts !== null && this.idKey !== '' && own?.has(this.opts.eventId!) !== true) out += this.idKey + eventId(idParts) + '"';
    if (own === null) return out + this.constant;
    for (const [k, v] of this.opts.fields) if (!own.has(k)) out += ',' + quote(toBinary(k)) + ':' + quote(toBinary(v));
    return out;
  }
}
