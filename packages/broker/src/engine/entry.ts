// A queued message the engine holds as an object: in memory, or being delivered. Messages paged
// out to the store are not entries but slots of a PagedRun (see paged-run.ts).
import type { Message } from '../message.js';

/** A message in a queue, held in memory (or delivered and not yet acknowledged). */
export interface Entry {
  /** Undefined once released, or when the store could not read it back. */
  message: Message | undefined;
  readonly seq: number;
  deliveries: number;
  readonly priority: number;
  readonly expires: number;
  /** Its copy is in the store (a persistent message of a stored queue). */
  readonly stored: boolean;
}
