/**
 * Every exit status oqfwd uses, in one place. The man page's EXIT STATUS section lists
 * the same codes; a test keeps the two in step.
 */
export const EXIT = {
  /** Every input was read and every line accounted for. */
  OK: 0,
  /** An input file could not be opened or read; the others were processed. */
  INPUT: 1,
  /** The command line was wrong. */
  USAGE: 2,
  /** A line that is not an osquery line, with --unparsed=fail (or an overlong line). */
  BAD_LINE: 3,
  /** Output could not be written (other than the reader going away). */
  OUTPUT: 4,
  /** The receiver could not be reached within --connect-timeout, or refused for good (TLS, RELP). */
  CONNECT: 5,
  /** A TCP receiver did not confirm every event: silence at the end where its FIN should have come. */
  UNDELIVERED: 6,
  /** --state: the state file could not be read or written (the next run may send again what this one sent). */
  STATE: 7,
  /** A bug in oqfwd. */
  SOFTWARE: 70,
  /** Stopped by SIGINT, after flushing what was read. */
  SIGINT: 130,
  /** Stopped by SIGTERM, after flushing what was read. */
  SIGTERM: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
