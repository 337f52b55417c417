import { SignerError } from '../errors.ts';
import { quoteInput } from './quote-input.ts';
import { decodeCloudFrontBase64 } from './cloudfront-base64.ts';
import { parseIpv4Block, type Ipv4Block } from './ip-address.ts';
import { MAX_EPOCH_SECONDS } from './time.ts';

/** Canned: exact URL and expiry, rebuilt by CloudFront from the request. Custom: a signed JSON policy. */
export type PolicyType = 'canned' | 'custom';

/** The conditions of one policy statement, in whole epoch seconds. */
export interface PolicyStatement {
  /** The URL (canned) or URL pattern (custom) the policy grants. */
  resource: string;
  /** `DateLessThan`: the policy is valid while the time is before this. */
  expiresAt: number;
  /** `DateGreaterThan`: the policy is valid only after this. */
  notBefore?: number;
  /** `IpAddress`/`AWS:SourceIp`: an IPv4 CIDR block. */
  ipAddress?: string;
}

/**
 * The canned policy CloudFront rebuilds from a request:
 * `{"Statement":[{"Resource":"URL","Condition":{"DateLessThan":{"AWS:EpochTime":N}}}]}`.
 * `resource` must already be a checked URL (visible ASCII, no `"` or `\`).
 */
export function buildCannedPolicy(resource: string, expiresAt: number): string {
  return `{"Statement":[{"Resource":${JSON.stringify(resource)},"Condition":{"DateLessThan":{"AWS:EpochTime":${expiresAt}}}}]}`;
}

/**
 * A custom policy, compact, with conditions in the order botocore and the AWS CLI write them
 * (`DateLessThan`, `IpAddress`, `DateGreaterThan`), so its bytes can be compared with theirs.
 */
export function buildCustomPolicy(statement: PolicyStatement): string {
  const condition: Record<string, unknown> = {
    DateLessThan: { 'AWS:EpochTime': statement.expiresAt },
  };
  if (statement.ipAddress !== undefined) {
    condition['IpAddress'] = { 'AWS:SourceIp': statement.ipAddress };
  }
  if (statement.notBefore !== undefined) {
    condition['DateGreaterThan'] = { 'AWS:EpochTime': statement.notBefore };
  }
  return JSON.stringify({ Statement: [{ Resource: statement.resource, Condition: condition }] });
}

/** A custom policy read back from a link, with what it grants. */
export interface ParsedPolicy extends PolicyStatement {
  ipBlock?: Ipv4Block;
  /** The policy JSON as signed. */
  json: string;
}

function malformed(reason: string): SignerError {
  return new SignerError('ERR_POLICY_MALFORMED', `policy is malformed: ${reason}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readEpochTime(condition: Record<string, unknown>, name: string): number | undefined {
  const entry = condition[name];
  if (entry === undefined) return undefined;
  if (!isRecord(entry) || Object.keys(entry).length !== 1) {
    throw malformed(`${name} must be {"AWS:EpochTime": seconds}`);
  }
  const value = entry['AWS:EpochTime'];
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 0 ||
    value > MAX_EPOCH_SECONDS
  ) {
    throw malformed(`${name} AWS:EpochTime must be whole epoch seconds up to ${MAX_EPOCH_SECONDS}`);
  }
  return value;
}

/**
 * Decodes and checks the `Policy` of a custom-policy link as CloudFront reads it: one
 * statement, a `Resource`, a `DateLessThan`, and optionally `DateGreaterThan` and an IPv4
 * `IpAddress`. Anything else is malformed.
 *
 * @throws {SignerError} `ERR_POLICY_MALFORMED`
 */
export function parseCustomPolicy(encodedPolicy: string): ParsedPolicy {
  const bytes = decodeCloudFrontBase64(encodedPolicy);
  if (bytes === undefined) throw malformed('Policy is not CloudFront base64');
  const json = bytes.toString('utf8');
  let document: unknown;
  try {
    document = JSON.parse(json);
  } catch {
    throw malformed('Policy is not JSON');
  }
  if (!isRecord(document) || !Array.isArray(document['Statement'])) {
    throw malformed('no Statement array');
  }
  const statements: unknown[] = document['Statement'];
  const [statement] = statements;
  if (statements.length !== 1 || !isRecord(statement)) {
    throw malformed('CloudFront accepts exactly one statement');
  }
  // CloudFront documents an omitted Resource as "any URL"; a null or non-string one is malformed.
  const resource = 'Resource' in statement ? statement['Resource'] : '*';
  if (typeof resource !== 'string') throw malformed('Resource must be a string');
  const condition = statement['Condition'];
  if (!isRecord(condition)) throw malformed('no Condition');
  const known = new Set(['DateLessThan', 'DateGreaterThan', 'IpAddress']);
  const unknown = Object.keys(condition).find((name) => !known.has(name));
  if (unknown !== undefined) throw malformed(`unknown condition ${quoteInput(unknown)}`);
  const expiresAt = readEpochTime(condition, 'DateLessThan');
  if (expiresAt === undefined) throw malformed('DateLessThan is required');
  const parsed: ParsedPolicy = { resource, expiresAt, json };
  const notBefore = readEpochTime(condition, 'DateGreaterThan');
  if (notBefore !== undefined) parsed.notBefore = notBefore;
  const ip = condition['IpAddress'];
  if (ip !== undefined) {
    const sourceIp = isRecord(ip) ? ip['AWS:SourceIp'] : undefined;
    if (typeof sourceIp !== 'string')
      throw malformed('IpAddress must be {"AWS:SourceIp": "a.b.c.d/n"}');
    try {
      parsed.ipBlock = parseIpv4Block(sourceIp);
    } catch (error) {
      throw malformed(error instanceof SignerError ? error.message : 'bad IpAddress');
    }
    parsed.ipAddress = sourceIp;
  }
  return parsed;
}
