import { PLAIN, type Paint } from './colour.js';

/** Where diagnostics go: a function that writes one finished text to stderr. */
export type ErrorWriter = (text: string) => void;

/** How many problems are reported one by one for each input before they are only counted. */
export const REPORTS_PER_INPUT = 10;

/**
 * Problems with the input, as `oqfwd: FILE:LINE: reason` lines. A file full of junk
 * must not flood the terminal: after {@link REPORTS_PER_INPUT} reports for one input
 * the rest are counted and summarised when that input ends.
 */
export class Reporter {
  private shown = 0;
  private hidden = 0;

  constructor(
    private readonly write: ErrorWriter,
    private readonly colour: Paint = PLAIN,
    private readonly quiet = false,
  ) {}

  /** A problem with one input line. */
  line(file: string, lineNo: number, reason: string): void {
    if (this.quiet) return;
    if (this.shown >= REPORTS_PER_INPUT) {
      this.hidden++;
      return;
    }
    this.shown++;
    this.write(`${this.colour.bold('oqfwd:')} ${file}:${lineNo}: ${this.colour.yellow(reason)}\n`);
  }

  /** An input ended: summarise what was not shown, and start counting afresh. */
  endInput(file: string): void {
    if (this.hidden > 0) {
      const what = this.hidden === 1 ? 'problem' : 'problems';
      this.write(`${this.colour.bold('oqfwd:')} ${file}: ${this.hidden} more ${what} not shown (--stats counts them all)\n`);
    }
    this.shown = 0;
    this.hidden = 0;
  }

  /** A problem that is not about one line (a file that cannot be read, a bad option). */
  error(message: string): void {
    this.write(`${this.colour.bold('oqfwd:')} ${this.colour.red(message)}\n`);
  }

  /** Something the user should know that is not an error; `always` even with --quiet. */
  warn(message: string, always = false): void {
    if (always || !this.quiet) this.write(`${this.colour.bold('oqfwd:')} ${message}\n`);
  }
}
