/** Exit statuses and how an error is shown: one line, the message of the error that stopped us. */
import { HostseriesError, InvalidHostError, InvalidOptionError } from '../errors.js';

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
  return e instanceof UsageError || e instanceof InvalidOptionError || e instanceof InvalidHostError;
}

export function errorMessage(e: unknown): string {
  if (e instanceof HostseriesError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
