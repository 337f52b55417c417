import {
  formatSetCookieHeaders,
  signCookies,
  type SetCookieOptions,
  type SignCookiesInput,
} from '../../core/sign-cookies.ts';
import { SignerError } from '../../errors.ts';
import { EXIT_OK } from '../exit-codes.ts';
import type { CommandSpec } from '../command.ts';
import { readSigningOptions, SIGNING_OPTION_SPECS, WHEN_NOTE } from './signing-options.ts';

const SAME_SITE = ['Strict', 'Lax', 'None'] as const;

export const cookiesCommand: CommandSpec = {
  name: 'cookies',
  summary: 'Sign CloudFront cookies and print one Set-Cookie header value per line (or JSON).',
  positionals: [
    {
      name: 'url-or-pattern',
      description: "an exact URL (canned cookies) or a pattern with '*' (custom cookies)",
    },
  ],
  options: {
    ...SIGNING_OPTION_SPECS,
    domain: {
      type: 'string',
      value: 'DOMAIN',
      description: 'cookie Domain, e.g. media.example.com',
    },
    path: { type: 'string', value: 'PATH', description: 'cookie Path (default /)' },
    'same-site': {
      type: 'string',
      value: 'Strict|Lax|None',
      description: 'cookie SameSite attribute',
    },
    json: {
      type: 'boolean',
      description: 'print {"cookie name": "value"} instead of Set-Cookie lines',
    },
  },
  notes: [
    WHEN_NOTE,
    "An argument containing '*' is a resource pattern; use --resource to give a pattern with only '?'.",
    'Cookies are Secure and HttpOnly, without Expires (the policy expires instead), as AWS advises.',
  ],
  examples: [
    "cfsign cookies 'https://media.example.com/videos/*' --key-pair-id K2JCJMDEHXQW5F --private-key private_key.pem --expires 2h --domain media.example.com",
    "cfsign cookies 'https://media.example.com/videos/*' --key-pair-id K2JCJMDEHXQW5F --private-key private_key.pem --expires 30m --json",
  ],
  run(args, io) {
    const [target = ''] = args.positionals;
    const input: SignCookiesInput = readSigningOptions(args, io);
    const resource = args.strings['resource'];
    if (resource !== undefined) {
      input.resource = resource;
      input.url = target;
    } else if (target.includes('*')) {
      input.resource = target;
      io.stderr(
        `note: '*' makes <url-or-pattern> a pattern: these cookies open every URL it matches (write a literal '*' as %2A)\n`,
      );
    } else {
      input.url = target;
    }
    const cookieOptions: SetCookieOptions = {};
    const domain = args.strings['domain'];
    if (domain !== undefined) cookieOptions.domain = domain;
    const path = args.strings['path'];
    if (path !== undefined) cookieOptions.path = path;
    const sameSite = args.strings['same-site'];
    if (sameSite !== undefined) {
      const match = SAME_SITE.find((value) => value.toLowerCase() === sameSite.toLowerCase());
      if (match === undefined)
        throw new SignerError(
          'ERR_COOKIE_OPTION_INVALID',
          '--same-site must be Strict, Lax or None',
        );
      cookieOptions.sameSite = match;
    }
    const signed = signCookies(input);
    // Check the attributes even for --json, so a bad --domain never passes silently.
    const headers = formatSetCookieHeaders(signed.cookies, cookieOptions);
    io.stdout(
      args.flags['json'] === true
        ? `${JSON.stringify(signed.cookies, null, 2)}\n`
        : `${headers.join('\n')}\n`,
    );
    return EXIT_OK;
  },
};
