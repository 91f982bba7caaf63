#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { AdminOperationError } from './admin/admin-client.js';
import { ensureDemoAssistant, firstRunHint } from './admin/first-run.js';
import { OperationInputError } from './admin/operations.js';
import { runFromCli } from './admin/run-from-cli.js';
import { ConfigError, loadConfig } from './config/config.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import { runListenCommand } from './listen/listen-command.js';
import { createLogger } from './logger.js';
import { createParley } from './server.js';

const USAGE = `Usage:
  parley serve                     start the server (PORT, HOST, … from the environment)
  parley migrate                   apply database migrations and exit
  parley keys create --team NAME   create an API key for team NAME (created if new); prints it once
                    [--name LABEL]
  parley teams limit --team NAME --max-calls N|none
                                   the most concurrent calls of team NAME, across every server
                                   (none: unlimited, the default)
  parley listen --forward-to URL   forward the team's live events to a local receiver, signed
                                   (parley listen --help)

Commands other than serve work whether or not a server runs on the same data: with the
embedded database, a running server is asked through its admin socket.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // A client of a running server: needs no server configuration.
  if (command === 'listen') return runListenCommand(rest);
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  switch (command) {
    case 'serve': {
      const parley = await createParley(config, { logger });
      const demoId = await ensureDemoAssistant(parley.database.db);
      if (demoId) logger.info({ assistantId: demoId }, 'demo assistant created for team "default"');
      // Graceful drain on the first SIGTERM or SIGINT (no new calls, live calls run up to
      // PARLEY_DRAIN_TIMEOUT_MS, then end with their terminal events); a second one ends the
      // live calls at once. The admin socket and the data-directory lock are released by close.
      const hurry = new AbortController();
      let draining = false;
      const shutdown = (signal: string) => {
        if (draining) {
          logger.warn({ signal }, 'second signal: ending the live calls now');
          hurry.abort();
          return;
        }
        draining = true;
        logger.info({ signal, drainTimeoutMs: config.drainTimeoutMs }, 'shutting down');
        parley.drain({ signal: hurry.signal }).then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => shutdown('SIGINT'));
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      const address = await parley.app.listen({ port: config.port, host: config.host });
      await parley.database.lock?.update({ address });
      const port = new URL(address).port;
      const hint = await firstRunHint(
        parley.database.db,
        config,
        config.publicUrl ?? `http://localhost:${port}`,
      );
      if (hint) {
        logger.info('no API key exists for the team "default" yet: see the hint on stderr');
        process.stderr.write(hint);
      }
      return -1;
    }
    case 'migrate': {
      await runFromCli(config, createLogger('warn'), 'migrate', {}, { command: 'migrate', notify });
      return 0;
    }
    case 'keys': {
      let parsed: ReturnType<typeof parseKeysArgs>;
      try {
        parsed = parseKeysArgs(rest);
      } catch (error) {
        process.stderr.write(`parley: ${(error as Error).message}\n${USAGE}`);
        return 2;
      }
      const { values, positionals } = parsed;
      if (positionals[0] !== 'create' || !values.team) {
        process.stderr.write(USAGE);
        return 2;
      }
      const { result } = await runFromCli(
        config,
        createLogger('warn'),
        'keys.create',
        { team: values.team, ...(values.name !== undefined ? { name: values.name } : {}) },
        { command: 'keys create', notify },
      );
      process.stdout.write(`${result.key}\n`);
      process.stderr.write(
        `team ${result.team.name} (${result.team.id}): store this key now, it is not shown again\n`,
      );
      return 0;
    }
    case 'teams': {
      let parsed: ReturnType<typeof parseTeamsArgs>;
      try {
        parsed = parseTeamsArgs(rest);
      } catch (error) {
        process.stderr.write(`parley: ${(error as Error).message}\n${USAGE}`);
        return 2;
      }
      const { values, positionals } = parsed;
      const max = values['max-calls'];
      if (positionals[0] !== 'limit' || !values.team || max === undefined) {
        process.stderr.write(USAGE);
        return 2;
      }
      if (max !== 'none' && !/^[0-9]{1,7}$/.test(max)) {
        process.stderr.write('parley: --max-calls must be a positive whole number or "none"\n');
        return 2;
      }
      const { result } = await runFromCli(
        config,
        createLogger('warn'),
        'teams.limit',
        { team: values.team, maxConcurrentCalls: max === 'none' ? null : Number(max) },
        { command: 'teams limit', notify },
      );
      process.stdout.write(
        `team ${result.name} (${result.id}): ${
          result.maxConcurrentCalls === null
            ? 'no limit of concurrent calls'
            : `at most ${result.maxConcurrentCalls} concurrent calls`
        }\n`,
      );
      return 0;
    }
    default:
      process.stderr.write(USAGE);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

const notify = (message: string) => process.stderr.write(`parley: ${message}\n`);

function parseTeamsArgs(args: string[]) {
  return parseArgs({
    args,
    options: { team: { type: 'string' }, 'max-calls': { type: 'string' } },
    allowPositionals: true,
  });
}

function parseKeysArgs(args: string[]) {
  return parseArgs({
    args,
    options: { team: { type: 'string' }, name: { type: 'string' } },
    allowPositionals: true,
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof OperationInputError) {
      process.stderr.write(`parley: ${error.message}\n`);
      process.exit(2);
    }
    if (
      error instanceof ConfigError ||
      error instanceof DataDirLockedError ||
      error instanceof AdminOperationError
    )
      process.stderr.write(`parley: ${error.message}\n`);
    else
      process.stderr.write(
        `parley: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    process.exit(1);
  },
);
