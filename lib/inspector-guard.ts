// Imported first by bin/oqfwd.ts, before anything else loads: while no SIGUSR1 listener
// exists, Node starts its inspector on that signal (a debugger on 127.0.0.1:9229 that any
// local user can reach, inside what may be a root process). With one, it never does.

let show: (() => void) | null = null;
/** Signals that came before a run could answer them. */
let early = 0;

process.on('SIGUSR1', () => {
  if (show === null) early++;
  else show();
});

/** What SIGUSR1 does from now on (print the counters); one that came earlier is answered now. */
export function onUsr1(fn: () => void): void {
  show = fn;
  if (early > 0) {
    early = 0;
    fn();
  }
}
