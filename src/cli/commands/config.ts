import type { SignerError } from '../../errors.ts';
import { loadConfig } from '../../config/load-config.ts';
import { ConfigFileSchema } from '../../config/service-config.ts';
import { loadKeyrings } from '../../server/load-keyring.ts';
import { EXIT_OK } from '../exit-codes.ts';
import type { CommandSpec } from '../command.ts';

export const configSchemaCommand: CommandSpec = {
  name: 'config schema',
  summary: 'Print the JSON Schema of the configuration file (CFSIGN_CONFIG), for editors and CI.',
  positionals: [],
  options: {},
  examples: ['cfsign config schema > cfsign.schema.json'],
  run(_args, io) {
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: 'cfsign configuration (CFSIGN_CONFIG)',
      ...ConfigFileSchema,
    };
    io.stdout(`${JSON.stringify(schema, null, 2)}\n`);
    return EXIT_OK;
  },
};

export const configCheckCommand: CommandSpec = {
  name: 'config check',
  summary:
    'Check a configuration file as the service would start with it (environment overrides included), loading every key, without starting.',
  positionals: [{ name: 'file', description: 'the YAML or JSON configuration file' }],
  options: {},
  notes: ['Exit 0 when the service would start; otherwise one line per problem and exit 2.'],
  examples: ['cfsign config check /etc/cfsign/config.yaml'],
  run(args, io) {
    const [file = ''] = args.positionals;
    const env = { ...io.env, CFSIGN_CONFIG: file };
    const config = loadConfig(env);
    const keyrings = loadKeyrings(config.distributions, env);
    const keys = [...keyrings.values()].flatMap((keyring) => keyring.keyPairIds);
    io.stdout(
      `ok: ${config.distributions.length} distribution(s) (${config.distributions.map((d) => d.name).join(', ')}), ` +
        `${config.auth === 'tokens' ? `${config.clients.length} client(s)` : `auth ${config.auth}`}, ` +
        `keys loaded: ${keys.join(', ')}\n`,
    );
    return EXIT_OK;
  },
};

/** For a config problem the CLI prints every line, not just the summary. */
export function describeConfigProblems(error: SignerError): string[] | undefined {
  const problems = error.details?.['problems'];
  return error.code === 'ERR_CONFIG_INVALID' && Array.isArray(problems)
    ? problems.map(String)
    : undefined;
}
