import type { DeliveryCounters } from './output/delivery.js';

/** Every line oqfwd reads ends up in exactly one of the `lines*` counters. */
export interface Stats {
  /** Input files (or stdin) opened. */
  files: number;
  /** Files that could not be opened or read. */
  filesFailed: number;
  /** Result event lines (`columns` + `action`). */
  linesResult: number;
  /** Batch lines (`diffResults`). */
  linesBatch: number;
  /** Snapshot lines (`snapshot` array) and snapshot row lines (`"action":"snapshot"`). */
  linesSnapshot: number;
  /** Status record lines: glog, JSON status, `severity=` text. */
  linesStatus: number;
  /** glog header lines (`Log file created at:` …): context, not events. */
  linesHeader: number;
  /** Lines appended to the status record before them (multi-line messages). */
  linesContinuation: number;
  /** Blank lines. */
  linesBlank: number;
  /** Lines that are not osquery lines. */
  linesUnparsed: number;
  /** Lines longer than --max-line, dropped unread. */
  linesSkipped: number;
  /** Lines whose invalid UTF-8 was replaced by U+FFFD (also counted by kind). */
  badUtf8: number;
  /** Extra records found glued onto one line (`{…}{…}`, osquery 1.7); not lines. */
  gluedRecords: number;
  /** Batch or snapshot lines with no row (under --flatten, each gives one event with rowCount 0). */
  emptyRecords: number;
  /** Events written. */
  events: number;
  /** Of those, events made from one row of a batch or snapshot line (--flatten). */
  rowEvents: number;
  /** Unparsed lines not written because of --unparsed=drop. */
  dropped: number;
  /** Events made and left out by selection (--kind, --query, --min-severity, --action). */
  filtered: number;
  /** Lines for standard error that could not be written there (closed or full): dropped. */
  reportsLost: number;
}

export function newStats(): Stats {
  return {
    files: 0,
    filesFailed: 0,
    linesResult: 0,
    linesBatch: 0,
    linesSnapshot: 0,
    linesStatus: 0,
    linesHeader: 0,
    linesContinuation: 0,
    linesBlank: 0,
    linesUnparsed: 0,
    linesSkipped: 0,
    badUtf8: 0,
    gluedRecords: 0,
    emptyRecords: 0,
    events: 0,
    rowEvents: 0,
    dropped: 0,
    filtered: 0,
    reportsLost: 0,
  };
}

/** All lines read: the sum of the per-kind line counters. */
export function linesRead(s: Stats): number {
  return (
    s.linesResult +
    s.linesBatch +
    s.linesSnapshot +
    s.linesStatus +
    s.linesHeader +
    s.linesContinuation +
    s.linesBlank +
    s.linesUnparsed +
    s.linesSkipped
  );
}

/** How --stats writes the counts: `name value` lines, or one JSON object. */
export type StatsFormat = 'text' | 'json';

/** What a network sink adds to --stats: its counters, and the events converted that the receiver did not confirm. */
export type SinkStats = DeliveryCounters & { unconfirmed: number };

/**
 * The `--stats` report: one `name value` pair per line, stable names for scripts; or with
 * `json`, the same names and values as one JSON object on one line.
 */
export function formatStats(s: Stats, paint: (name: string) => string = (x) => x, sink?: SinkStats, format: StatsFormat = 'text'): string {
  const rows: Array<[string, number]> = [
    ['files', s.files],
    ['files_failed', s.filesFailed],
    ['lines', linesRead(s)],
    ['lines_result', s.linesResult],
    ['lines_batch', s.linesBatch],
    ['lines_snapshot', s.linesSnapshot],
    ['lines_status', s.linesStatus],
    ['lines_header', s.linesHeader],
    ['lines_continuation', s.linesContinuation],
    ['lines_blank', s.linesBlank],
    ['lines_unparsed', s.linesUnparsed],
    ['lines_skipped', s.linesSkipped],
    ['lines_bad_utf8', s.badUtf8],
    ['records_glued', s.gluedRecords],
    ['records_empty', s.emptyRecords],
    ['events', s.events],
    ['events_rows', s.rowEvents],
    ['unparsed_dropped', s.dropped],
    ['events_filtered', s.filtered],
    ['reports_lost', s.reportsLost],
  ];
  if (sink !== undefined) {
    rows.push(
      ['sent_bytes', sink.bytesSent],
      ['sent_events', sink.eventsSent],
      ['confirmed_events', sink.eventsConfirmed],
      ['unconfirmed_events', sink.unconfirmed],
      ['events_replayed', sink.eventsReplayed],
      ['reconnects', sink.reconnects],
    );
  }
  if (format === 'json') return JSON.stringify(Object.fromEntries(rows)) + '\n';
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `oqfwd: stats: ${paint(k.padEnd(width))} ${v}\n`).join('');
}
