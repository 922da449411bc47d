import { PLAIN, type Paint } from '../colour.js';
import { arrayElements, fromBinary, jsonString, objectMembers, skipSpace, type RawMember } from '../json-raw.js';
import { forTerminal } from '../report.js';

/** Longest line --pretty writes, in characters: the rest of a huge snapshot is summarised. */
export const PRETTY_WIDTH = 4096;

const SEVERITY = ['INFO', 'WARNING', 'ERROR', 'FATAL'];

/**
 * An event as --pretty reads it: its members found in the NDJSON text (a binary string, see
 * lines.ts) without JSON.parse, so every value shows exactly as written (a 20-digit number
 * too) and a snapshot of a million rows costs no object per row.
 */
class View {
  private readonly members = new Map<string, RawMember>();

  constructor(readonly s: string) {
    // The last of duplicate keys counts, as with JSON.parse.
    for (const m of objectMembers(s, skipSpace(s, 0))) this.members.set(m.key, m);
  }

  get(key: string): RawMember | undefined {
    return this.members.get(key);
  }

  /** A member as text: a string decoded, any other value as its JSON text; undefined when absent. */
  text(key: string): string | undefined {
    const m = this.members.get(key);
    return m === undefined ? undefined : valueText(this.s, m.valueStart, m.valueEnd);
  }
}

/** The value at `[start, end)` of `s` as text: a string decoded, anything else as its JSON text. */
function valueText(s: string, start: number, end: number): string {
  return s.charCodeAt(start) === 34 ? jsonString(s, start, end) : fromBinary(s.slice(start, end));
}

/** Text from the input, for a terminal: every control character and bidi override escaped. */
function show(v: string | undefined): string {
  return v === undefined ? '-' : forTerminal(v);
}

/** The object at `start` of `s` as `key=value` pairs; a value quoted when empty or holding a space, quote, `=` or backslash. */
function row(s: string, start: number, end: number): string {
  if (s.charCodeAt(start) !== 123) return forTerminal(valueText(s, start, end));
  return objectMembers(s, start)
    .map((m) => {
      const v = valueText(s, m.valueStart, m.valueEnd);
      return forTerminal(jsonString(s, m.keyStart, m.keyEnd)) + '=' + forTerminal(v === '' || /[\s"=\\]/.test(v) ? JSON.stringify(v) : v);
    })
    .join(' ');
}

/** The event's time: its ISO `time` (status), else `unixTime` in ISO 8601 UTC, else `calendarTime`. */
function timeOf(e: View): string {
  const time = e.text('time');
  if (time !== undefined) return forTerminal(time);
  const u = Number(e.text('unixTime'));
  if (e.get('unixTime') !== undefined && Number.isFinite(u) && Math.abs(u) < 8.64e12) return new Date(Math.floor(u) * 1000).toISOString().slice(0, -5) + 'Z';
  return show(e.text('calendarTime'));
}

/** `s` cut to `n` characters, saying so. */
function cut(s: string, n: number): string {
  return s.length > n ? s.slice(0, n) + ` ...(${s.length - n} more)` : s;
}

/** The elements of the array member `m` (or none when it is no array), with how many there are. */
function elements(s: string, m: RawMember | undefined): number[] {
  return m !== undefined && s.charCodeAt(m.valueStart) === 91 ? arrayElements(s, m.valueStart) : [];
}

/** Rows (`spans` into `s`) as ` [k=v ...]`, at most about `room` characters of them, then how many were left out. */
function rows(s: string, spans: number[], room: number): string {
  let out = '';
  for (let i = 0; i < spans.length; i += 2) {
    const next = ' [' + row(s, spans[i]!, spans[i + 1]!) + ']';
    if (out.length + next.length > room) return out + ` ... ${(spans.length - i) / 2} more`;
    out += next;
  }
  return out;
}

/**
 * One event as one line for people: time, host, kind, the query name (or the status
 * record's file:line, or the unparsed line's place), the action, then the columns or the
 * message. `line` is the event's NDJSON text as a binary string. Nothing from the input
 * reaches the terminal unescaped (so an event is always one line), and a long value is cut
 * (about {@link PRETTY_WIDTH} characters a part).
 */
export function prettyEvent(line: string, paint: Paint = PLAIN): string {
  const e = new View(line);
  const s = line;
  const kind = e.text('kind') ?? '?';
  const head = paint.dim(timeOf(e)) + ' ' + cut(show(e.text('hostIdentifier')), 256) + ' ';
  const name = paint.cyan(cut(show(e.text('name')), 256));
  switch (kind) {
    case 'status': {
      const n = Number(e.text('severity'));
      const level = SEVERITY[n] ?? `SEVERITY ${show(e.text('severity'))}`;
      const sev = n >= 3 ? paint.bold(paint.red(level)) : n === 2 ? paint.red(level) : n === 1 ? paint.yellow(level) : paint.green(level);
      return head + 'status ' + sev + ' ' + paint.dim(cut(show(e.text('filename')) + ':' + show(e.text('line')), 256)) + ' ' + cut(show(e.text('message')), PRETTY_WIDTH) + '\n';
    }
    case 'unparsed':
      return paint.dim(cut(`unparsed ${show(e.text('file'))}:${show(e.text('line'))}: ${show(e.text('reason'))}: ${show(e.text('raw'))}`, PRETTY_WIDTH)) + '\n';
    case 'batch': {
      const d = e.get('diffResults');
      const sides = d !== undefined && s.charCodeAt(d.valueStart) === 123 ? objectMembers(s, d.valueStart) : [];
      const side = (key: string): RawMember | undefined => sides.filter((m) => m.key === key).pop();
      const removed = elements(s, side('removed'));
      const added = elements(s, side('added'));
      return head + 'batch ' + name + ' ' + paint.red(`-${removed.length / 2}`) + ' ' + paint.green(`+${added.length / 2}`) + paint.red(rows(s, removed, PRETTY_WIDTH / 2)) + paint.green(rows(s, added, PRETTY_WIDTH / 2)) + '\n';
    }
    default: {
      const action = e.text('action') ?? (kind === 'snapshot' ? 'snapshot' : '-');
      const act = action === 'added' ? paint.green(action) : action === 'removed' ? paint.red(action) : paint.magenta(forTerminal(action));
      let out = head + forTerminal(kind) + ' ' + name + ' ' + act;
      const snapshot = e.get('snapshot');
      const columns = e.get('columns');
      if (snapshot !== undefined) {
        const spans = elements(s, snapshot);
        out += ` ${spans.length / 2} rows` + rows(s, spans, PRETTY_WIDTH);
      } else if (columns !== undefined) out += ' ' + cut(row(s, columns.valueStart, columns.valueEnd), PRETTY_WIDTH);
      else if (e.text('rowCount') === '0') out += ' (no rows)';
      return out + '\n';
    }
  }
}

/**
 * NDJSON events in, pretty lines out, chunk by chunk. Chunks from the converter end at
 * event boundaries; a piece that does not is kept for the next chunk all the same.
 */
export class PrettyRenderer {
  private carry = '';

  constructor(private readonly paint: Paint = PLAIN) {}

  render(chunk: Buffer): string {
    const text = this.carry + chunk.toString('latin1');
    const end = text.lastIndexOf('\n');
    this.carry = text.slice(end + 1);
    let out = '';
    for (let at = 0; at < end; ) {
      const nl = text.indexOf('\n', at);
      out += prettyEvent(text.slice(at, nl), this.paint);
      at = nl + 1;
    }
    return out;
  }
}
