import { PLAIN, type Paint } from './colour.js';

/** Where diagnostics go: a function that writes one finished text to stderr. */
export type ErrorWriter = (text: string) => void;

/** What a terminal would act on rather than show: C0 and C1 controls, DEL, bidirectional overrides. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `s` made safe to show on a terminal: every character it would act on (an ESC sequence that
 * sets the title or moves the cursor, a newline that forges a report, a bidi override) is
 * written as an escape (\x1b, \x0a, \u202e). File names and quoted input reach stderr only
 * through this.
 */
export function forTerminal(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x100 ? '\\x' + n.toString(16).padStart(2, '0') : '\\u' + n.toString(16).padStart(4, '0');
  });
}

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
    this.write(`${this.colour.bold('oqfwd:')} ${forTerminal(file)}:${lineNo}: ${this.colour.yellow(forTerminal(reason))}\n`);
  }

  /** An input ended: summarise what was not shown, and start counting afresh. */
  endInput(file: string): void {
    if (this.hidden > 0) {
      const what = this.hidden === 1 ? 'problem' : 'problems';
      this.write(`${this.colour.bold('oqfwd:')} ${forTerminal(file)}: ${this.hidden} more ${what} not shown (--stats counts them all)\n`);
    }
    this.shown = 0;
    this.hidden = 0;
  }

  /** A problem that is not about one line (a file that cannot be read, a bad option). */
  error(message: string): void {
    this.write(`${this.colour.bold('oqfwd:')} ${this.colour.red(forTerminal(message))}\n`);
  }

  /** Something the user should know that is not an error; `always` even with --quiet. */
  warn(message: string, always = false): void {
    if (always || !this.quiet) this.write(`${this.colour.bold('oqfwd:')} ${forTerminal(message)}\n`);
  }
}
