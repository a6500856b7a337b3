/** Exit statuses, and which errors are the user's arguments (shown with the usage, exit 2). */
import { InvalidHostError, InvalidOptionError } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** As shells report them: the command could not be run / was not found. */
export const EXIT_CANNOT_RUN = 126;
export const EXIT_NOT_FOUND = 127;

/** A bad argument found after commander's own checks; shown with the command's usage, exit 2. */
export class UsageError extends InvalidOptionError {}

/** Errors that mean "the arguments are wrong", as opposed to "something failed". */
export function isUsageError(e: unknown): boolean {
  return e instanceof InvalidOptionError || e instanceof InvalidHostError;
}

/** An error as one line (some messages quote the input they choked on, newlines and all). */
export function errorMessage(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ').trim();
}
