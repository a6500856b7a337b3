#!/usr/bin/env node
/** The `hostseries` command: runs the program and turns every outcome into one exit status. */
import { CommanderError, type Command } from 'commander';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, errorMessage, isUsageError } from './exit.js';
import { guardStderr, writeStderr } from './output.js';
import { buildProgram, CliUsageError, fullName, usageLine } from './program.js';

function usageFailure(cmd: Command, message: string): number {
  writeStderr(`hostseries: ${message}\n${usageLine(cmd)}\nRun '${fullName(cmd)} --help' for the options and examples.\n`);
  return EXIT_USAGE;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  // A closed or full stderr must not crash a recording (see output.ts).
  guardStderr();
  const { program, active } = buildProgram();
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError && e.exitCode === 0) return EXIT_OK;
    if (e instanceof CliUsageError) {
      // No command at all: commander has shown the overview (on stderr).
      if (e.commanderError.code === 'commander.help') return EXIT_USAGE;
      return usageFailure(e.command, e.message);
    }
    if (isUsageError(e)) return usageFailure(active(), errorMessage(e));
    writeStderr(`hostseries: ${errorMessage(e)}\n`);
    return EXIT_FAILURE;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
}

if (require.main === module) {
  void main().then((code) => {
    // Lingering handles (a remote connection closing) must not hold the exit status back.
    // (A stdout whose reader is gone reports it to the callback; it changes nothing here.)
    process.stdout.on('error', () => undefined);
    // A failure to write the help or version (writeInfoToStdout) fails a run that had succeeded.
    process.stdout.write('', () => process.exit(code === 0 && typeof process.exitCode === 'number' ? process.exitCode : code));
  });
}
