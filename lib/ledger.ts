import { Mark } from './convert.js';
import type { StateFile } from './input/state.js';

/** How often a run whose positions move saves them, ms (and once more at its end). */
export const STATE_SAVE_MS = 1000;

/**
 * Between the converter and the sink: counts the bytes of events that go to the sink and
 * notes, for each {@link Mark}, how many come before it. Once the sink says that many were
 * delivered (its `delivered()`: stdout's writes completed, TCP's confirmation, RELP's
 * acknowledgements), the mark's position goes into the state file: a position is never
 * saved before every event before it was delivered.
 */
export class Ledger {
  /** Bytes of events handed to the sink so far. */
  private passed = 0;
  /** Marks not settled yet, oldest first from `first`, with the bytes of events before each. */
  private marks: Array<{ bytes: number; mark: Mark }> = [];
  private first = 0;
  private timer: NodeJS.Timeout | null = null;
  private failed = false;

  /**
   * @param state where positions go
   * @param delivered how many bytes of the events handed to the sink, from the first, it has delivered
   * @param onSaveError told when a save fails (the next one tries again)
   */
  constructor(
    private readonly state: StateFile,
    private readonly delivered: () => number,
    private readonly onSaveError: (err: Error) => void,
  ) {}

  /** The pipeline stage: events through to the sink, marks noted. */
  stage(): (source: AsyncIterable<Buffer | Mark>) => AsyncGenerator<Buffer> {
    const ledger = this;
    return async function* ledgerStage(source) {
      for await (const item of source) {
        if (item instanceof Mark) ledger.note(item);
        else {
          ledger.passed += item.length;
          yield item;
        }
      }
    };
  }

  private note(mark: Mark): void {
    const at = this.passed;
    const last = this.marks.length > this.first ? this.marks[this.marks.length - 1]! : null;
    // A mark with no event since the one before it of the same input replaces it.
    if (last !== null && last.bytes === at && last.mark.track.key === mark.track.key) last.mark = mark;
    else this.marks.push({ bytes: at, mark });
    if (this.timer === null) this.timer = setTimeout(() => this.tick(), STATE_SAVE_MS);
  }

  /** Positions whose events were all delivered, into the state. */
  private settle(): void {
    const done = this.delivered();
    let i = this.first;
    for (; i < this.marks.length && this.marks[i]!.bytes <= done; i++) {
      const { track, start, finished } = this.marks[i]!.mark;
      this.state.set(track.key, track.file, start, track.path, finished);
    }
    this.first = i;
    if (i > 1024 && i * 2 > this.marks.length) {
      this.marks = this.marks.slice(i);
      this.first = 0;
    }
  }

  private tick(): void {
    this.timer = null;
    this.settle();
    this.state.save().then(
      () => (this.failed = false),
      (err: Error) => {
        if (!this.failed) this.onSaveError(err);
        this.failed = true;
      },
    );
    if (this.marks.length > this.first) this.timer = setTimeout(() => this.tick(), STATE_SAVE_MS);
  }

  /** The run ended: what was delivered is saved now. Throws when the state cannot be written. */
  async finish(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.settle();
    await this.state.save();
  }
}
