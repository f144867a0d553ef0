import type { Logger } from '../logger.js';

/** What every CLI command gets: the CLI logger (stderr) and the output streams. */
export interface CliContext {
  logger: Logger;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  verbosity: number;
  logJson: boolean;
}
