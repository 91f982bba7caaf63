#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/config.js';
import { ensureDemoAssistant } from './engine/demo-assistant.js';
import { createLogger } from './logger.js';
import { createParley, openConfiguredDatabase } from './server.js';
import { createApiKey } from './tenancy/api-keys.js';

const USAGE = `Usage:
  parley serve                     start the server (PORT, HOST, … from the environment)
  parley migrate                   apply database migrations and exit
  parley keys create --team NAME   create an API key for team NAME (created if new); prints it once
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  switch (command) {
    case 'serve': {
      const parley = await createParley(config, { logger });
      const demoId = await ensureDemoAssistant(parley.database.db);
      if (demoId) logger.info({ assistantId: demoId }, 'demo assistant created for team "default"');
      const shutdown = async (signal: string) => {
        logger.info({ signal }, 'shutting down');
        await parley.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown('SIGINT'));
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      await parley.app.listen({ port: config.port, host: config.host });
      return -1;
    }
    case 'migrate': {
      const database = await openConfiguredDatabase(config, logger);
      await database.close();
      return 0;
    }
    case 'keys': {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { team: { type: 'string' }, name: { type: 'string' } },
        allowPositionals: true,
      });
      if (positionals[0] !== 'create' || !values.team) {
        process.stderr.write(USAGE);
        return 2;
      }
      const database = await openConfiguredDatabase(config, createLogger('warn'));
      const { team, key } = await createApiKey(database.db, values.team, values.name ?? '');
      await database.close();
      process.stdout.write(`${key}\n`);
      process.stderr.write(`team ${team.name} (${team.id}): store this key now, it is not shown again\n`);
      return 0;
    }
    default:
      process.stderr.write(USAGE);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`parley: ${error.message}\n`);
    else
      process.stderr.write(
        `parley: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    process.exit(1);
  },
);
