import { StreamRefusedError } from './event-stream.js';
import { LISTEN_USAGE, ListenUsageError, parseListenArgs } from './listen-options.js';
import { Listener } from './listener.js';

/** `parley listen …`: runs until SIGINT/SIGTERM. Returns the exit code. */
export async function runListenCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(LISTEN_USAGE);
    return 0;
  }
  let listener: Listener;
  try {
    const options = parseListenArgs(args, process.env);
    if (!options.secret) {
      process.stderr.write('parley listen: no --secret: forwarded requests are not signed\n');
    }
    listener = new Listener(options);
  } catch (err) {
    if (err instanceof ListenUsageError) {
      process.stderr.write(`parley listen: ${err.message}\n\n${LISTEN_USAGE}`);
      return 2;
    }
    throw err;
  }
  const stop = () => void listener.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await listener.start();
    return 0;
  } catch (err) {
    if (err instanceof StreamRefusedError) {
      process.stderr.write(`parley listen: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
