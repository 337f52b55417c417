import { parseViewerAddress } from '../../core/ip-address.ts';
import { resolveTime } from '../../core/time.ts';
import type { KeyLookup } from '../../core/verify.ts';
import { loadPublicKey } from '../../keys/load-key.ts';
import type { CliIo } from '../io.ts';
import type { ParsedCommand } from '../command.ts';

/** What `verify` and `inspect` judge a link by, from `--at` and `--ip`. */
export function readJudgingOptions(
  args: ParsedCommand,
  io: CliIo,
): { now: Date; ipAddress?: string } {
  const now = io.now();
  const at = args.strings['at'];
  const options: { now: Date; ipAddress?: string } = {
    now: at === undefined ? now : new Date(resolveTime(at, now, '--at', 'down') * 1000),
  };
  const ip = args.strings['ip'];
  if (ip !== undefined) options.ipAddress = parseViewerAddress(ip);
  return options;
}

/** The key of `--public-key`, for any Key-Pair-Id or only for `--key-pair-id`'s. */
export function readTrustedKey(publicKeyFile: string, onlyId: string | undefined): KeyLookup {
  const key = loadPublicKey({ file: publicKeyFile });
  return { get: (keyPairId) => (onlyId === undefined || keyPairId === onlyId ? key : undefined) };
}
