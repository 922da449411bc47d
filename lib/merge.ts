/**
 * The values of several async iterables as they come, in one: each source keeps its own
 * order, and a source is asked for its next value only once its last one was taken, so a
 * slow consumer holds every source back (backpressure reaches each input). Ends when every
 * source has ended; an error of one source ends them all.
 */
export async function* merge<T>(sources: Array<AsyncIterable<T>>): AsyncGenerator<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<T> }>>();
  const ask = (index: number): void => {
    pending.set(
      index,
      iterators[index]!.next().then((result) => ({ index, result })),
    );
  };
  iterators.forEach((_, i) => ask(i));
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done === true) {
        pending.delete(index);
        continue;
      }
      yield result.value;
      ask(index);
    }
  } finally {
    // Stopped early (an error, the consumer gone): every source still running is ended.
    await Promise.allSettled([...pending.keys()].map((i) => iterators[i]!.return?.()));
  }
}
