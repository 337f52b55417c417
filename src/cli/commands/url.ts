import { signUrl, type SignUrlInput } from '../../core/sign-url.ts';
import { buildObjectUrl } from '../../core/signable-url.ts';
import { EXIT_OK } from '../exit-codes.ts';
import type { CommandSpec } from '../command.ts';
import { readSigningOptions, SIGNING_OPTION_SPECS, WHEN_NOTE } from './signing-options.ts';

export const urlCommand: CommandSpec = {
  name: 'url',
  summary: 'Sign a URL for CloudFront and print only the signed URL.',
  positionals: [
    {
      name: 'url',
      description:
        'the URL to sign, already percent-encoded (or the distribution URL with --object-key)',
    },
  ],
  options: {
    ...SIGNING_OPTION_SPECS,
    'object-key': {
      type: 'string',
      value: 'KEY',
      description: 'raw S3 object key; cfsign encodes it and appends it to <url>',
    },
    json: { type: 'boolean', description: 'print the signed URL and what it grants as JSON' },
  },
  notes: [
    WHEN_NOTE,
    'Without --not-before, --ip or --resource the link uses a canned policy: it opens exactly <url>.',
    'A --resource pattern is reusable: whoever holds the link can use its signature on any URL it matches.',
  ],
  examples: [
    'cfsign url https://d111111abcdef8.cloudfront.net/videos/intro.mp4 --key-pair-id K2JCJMDEHXQW5F --private-key private_key.pem --expires 1h',
    "cfsign url https://d111111abcdef8.cloudfront.net --object-key 'talks/ünï code?.mp4' --key-pair-id K2JCJMDEHXQW5F --private-key private_key.pem --expires 15m",
    "cfsign url https://d111111abcdef8.cloudfront.net/videos/a.mp4 --resource 'https://d111111abcdef8.cloudfront.net/videos/*' --ip 203.0.113.0/24 --key-pair-id K2JCJMDEHXQW5F --private-key private_key.pem --expires 2030-01-01T00:00:00Z",
  ],
  run(args, io) {
    const [target = ''] = args.positionals;
    const objectKey = args.strings['object-key'];
    const input: SignUrlInput = {
      ...readSigningOptions(args, io),
      url: objectKey === undefined ? target : buildObjectUrl(target, objectKey),
    };
    const resource = args.strings['resource'];
    if (resource !== undefined) input.resource = resource;
    const signed = signUrl(input);
    io.stdout(
      args.flags['json'] === true ? `${JSON.stringify(signed, null, 2)}\n` : `${signed.url}\n`,
    );
    return EXIT_OK;
  },
};
