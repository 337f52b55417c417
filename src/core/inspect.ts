import { SignerError } from '../errors.ts';
import {
  decodeCloudFrontBase64,
  encodeCloudFrontBase64,
  findNonCloudFrontBase64Character,
  toCloudFrontAlphabet,
} from './cloudfront-base64.ts';
import { ipv4BlockContains, parseViewerAddress, type Ipv4Block } from './ip-address.ts';
import { findJsonKeyProblem } from './json-keys.ts';
import { buildCannedPolicy, parseCustomPolicy, type PolicyType } from './policy.ts';
import { codePointLabel, quoteInput } from './quote-input.ts';
import { matchesResourcePattern } from './resource-pattern.ts';
import { MAX_URL_BYTES } from './signable-url.ts';
import {
  readCookieFields,
  readQueryFields,
  requestUrlWithoutSigning,
  type SigningField,
  type SigningPart,
} from './signing-fields.ts';
import type { HashAlgorithm } from './signing-key.ts';
import { describeRelative, epochSeconds, MAX_EPOCH_SECONDS } from './time.ts';
import {
  verifyCookies,
  verifyUrl,
  type CloudFrontErrorCode,
  type KeyLookup,
  type Verdict,
} from './verify.ts';
import { COOKIE, HASH_ALGORITHM_VALUE, QUERY } from './wire-names.ts';

/** `error`: CloudFront refuses the link as it is. `warning`: it may fail, or grants more than it seems. */
export type ProblemSeverity = 'error' | 'warning';

/** Every problem inspect can name, with its severity. Codes are stable; see docs/errors.md. */
export const INSPECTION_PROBLEM_SEVERITY = {
  URL_INVALID: 'error',
  URL_UNENCODED_CHARACTERS: 'error',
  URL_NOT_CANONICAL: 'warning',
  PARAMETER_MISSING: 'error',
  PARAMETER_DUPLICATED: 'error',
  PARAMETERS_INTERLEAVED: 'warning',
  CANNED_QUERY_APPENDED: 'warning',
  COOKIES_IGNORED: 'warning',
  EXPIRES_AND_POLICY: 'error',
  EXPIRES_INVALID: 'error',
  HASH_UNSUPPORTED: 'error',
  STANDARD_BASE64: 'error',
  BASE64_PERCENT_ENCODED: 'error',
  BASE64_INVALID: 'error',
  POLICY_NOT_JSON: 'error',
  POLICY_MALFORMED: 'error',
  POLICY_UNKNOWN_CONDITION: 'error',
  POLICY_UNKNOWN_FIELD: 'warning',
  POLICY_DUPLICATE_KEY: 'warning',
  RESOURCE_UNRESTRICTED: 'warning',
  RESOURCE_MISMATCH: 'error',
  EXPIRED: 'error',
  NOT_YET_VALID: 'error',
  IP_MISMATCH: 'error',
} as const satisfies Record<string, ProblemSeverity>;

export type InspectionProblemCode = keyof typeof INSPECTION_PROBLEM_SEVERITY;

export const INSPECTION_PROBLEM_CODES = Object.keys(
  INSPECTION_PROBLEM_SEVERITY,
) as readonly InspectionProblemCode[];

/** One thing wrong with a link, in words and as a stable code. Never carries the signature. */
export interface InspectionProblem {
  code: InspectionProblemCode;
  severity: ProblemSeverity;
  /** The CloudFront parameter or cookie concerned, e.g. `Signature`. */
  parameter?: string;
  message: string;
  /** What CloudFront answers (with HTTP 403) for this problem, when it refuses the link for it. */
  cloudFrontError?: CloudFrontErrorCode;
}

/** A moment of the policy, for people: `2026-06-01T12:10:00Z` and `expires in 10 min`. */
export interface DescribedTime {
  utc: string;
  relative: string;
}

/** {@link Verdict} without the compact policy, which the inspection shows pretty. */
export type InspectionVerdict = Omit<Verdict, 'policy'>;

/** What a signed URL or a set of signed cookies says, and every problem visible in it. */
export interface Inspection {
  /** No problem found, and, when keys were given, the verdict is valid. */
  ok: boolean;
  /** Where CloudFront reads the signing values: the query (URL parameters win) or the cookies. */
  source: 'url' | 'cookies';
  /** The URL the policy is matched against: as a browser sends it, without CloudFront's parameters. */
  requestUrl?: string;
  policyType?: PolicyType;
  keyPairId?: string;
  /** The hash the link claims (`Hash-Algorithm`, SHA-1 when absent). */
  hash?: HashAlgorithm;
  /** The URL (canned) or URL pattern (custom) the policy grants. */
  resource?: string;
  /** `DateLessThan`, epoch seconds. */
  expiresAt?: number;
  expiry?: DescribedTime;
  /** `DateGreaterThan`, epoch seconds. */
  notBefore?: number;
  start?: DescribedTime;
  /** `IpAddress`/`AWS:SourceIp`. */
  ipAddress?: string;
  /** The policy, pretty JSON with non-ASCII escaped (for a canned link, the one CloudFront rebuilds). */
  policy?: string;
  problems: InspectionProblem[];
  /** The verdict against the keys given, when keys were given. */
  verdict?: InspectionVerdict;
}

export interface InspectOptions {
  /** The time to judge expiry and start against. */
  now: Date;
  /** Public keys by Key-Pair-Id; when given, the inspection includes the verdict. */
  keys?: KeyLookup;
  /** The viewer's address, to check an `IpAddress` condition. */
  ipAddress?: string;
}

type Source = Inspection['source'];
type SigningValues = Partial<Record<SigningPart, string>>;

function wireName(source: Source, part: SigningPart): string {
  return source === 'url' ? QUERY[part] : COOKIE[part];
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

function quoteList(values: readonly string[]): string {
  const quoted = values.map((value) => quoteInput(value));
  return quoted.length < 2
    ? quoted.join('')
    : `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1] ?? ''}`;
}

/** `\uXXXX` for every UTF-16 unit outside printable ASCII, so the text is safe on any terminal. */
function escapeForDisplay(text: string, keep: RegExp = /[\x20-\x7E]/): string {
  return text.replace(/[\s\S]/g, (unit) =>
    keep.test(unit) ? unit : `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Pretty JSON whose non-ASCII characters are `\u` escapes: still JSON, and still the same value. */
function prettyJson(value: unknown): string {
  return escapeForDisplay(JSON.stringify(value, null, 2), /[\x20-\x7E\n]/);
}

/** Deeper than any policy CloudFront reads, and far below what recursion can take. */
const MAX_POLICY_DEPTH = 32;

/** How deep the arrays and objects of valid JSON text nest, counted without recursion. */
function jsonNestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index];
    if (inString) {
      if (character === '\\') index += 1;
      else if (character === '"') inString = false;
    } else if (character === '"') inString = true;
    else if (character === '[' || character === '{') deepest = Math.max(deepest, ++depth);
    else if (character === ']' || character === '}') depth -= 1;
  }
  return deepest;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The problems found so far, in the order a reader should fix them. */
class Findings {
  readonly problems: InspectionProblem[] = [];

  add(
    code: InspectionProblemCode,
    message: string,
    where: { parameter?: string; cloudFrontError?: CloudFrontErrorCode } = {},
  ): InspectionProblem {
    const problem: InspectionProblem = {
      code,
      severity: INSPECTION_PROBLEM_SEVERITY[code],
      ...(where.parameter === undefined ? {} : { parameter: where.parameter }),
      message,
      ...(where.cloudFrontError === undefined ? {} : { cloudFrontError: where.cloudFrontError }),
    };
    this.problems.push(problem);
    return problem;
  }
}

function describeCharacter(character: string): string {
  if (character === ' ') return 'a raw space';
  const codePoint = character.codePointAt(0) ?? 0;
  const label = codePointLabel(character);
  return codePoint < 0x20 || codePoint === 0x7f ? `the control character ${label}` : label;
}

/**
 * The URL as a browser sends it (WHATWG form, no fragment), with what is wrong on the way.
 * Undefined when there is no http(s) URL to look into at all.
 */
function readRequestUrl(url: unknown, findings: Findings): string | undefined {
  if (typeof url !== 'string' || url.length === 0) {
    findings.add('URL_INVALID', 'the URL must be a non-empty string');
    return undefined;
  }
  if (url.length > MAX_URL_BYTES) {
    findings.add(
      'URL_INVALID',
      `the URL is ${url.length} bytes long; CloudFront refuses URLs over ${MAX_URL_BYTES} bytes`,
    );
    return undefined;
  }
  const withoutFragment = url.includes('#') ? url.slice(0, url.indexOf('#')) : url;
  let parsed: URL;
  try {
    parsed = new URL(withoutFragment);
  } catch {
    findings.add('URL_INVALID', 'the URL is not a valid absolute URL');
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    findings.add(
      'URL_INVALID',
      `the URL scheme is ${quoteInput(parsed.protocol.slice(0, -1))}, not https or http`,
    );
    return undefined;
  }
  const unencoded = /[^\x21-\x7E]/u.exec(url);
  if (unencoded) {
    findings.add(
      'URL_UNENCODED_CHARACTERS',
      `the URL contains ${describeCharacter(unencoded[0])} at index ${unencoded.index}: browsers send it percent-encoded (as UTF-8) and other clients refuse it; percent-encode the object key when building the URL, and sign that URL`,
    );
  }
  if (!unencoded && parsed.href !== withoutFragment) {
    const sent = requestUrlWithoutSigning(readQueryFields(parsed.href));
    findings.add(
      'URL_NOT_CANONICAL',
      `a browser requests ${quoteInput(sent, 200)} (plus CloudFront's parameters) for this link: the host case, a default port, dot segments or escaping differ from what is written, and CloudFront judges the form a browser sends`,
    );
  }
  return parsed.href;
}

/** Own parameters between CloudFront's, and the own parameters after them (returned). */
function checkPlacement(fields: readonly SigningField[], findings: Findings): SigningField[] {
  const signing = fields.flatMap((field, index) => (field.part === undefined ? [] : [index]));
  const first = signing[0];
  const last = signing[signing.length - 1];
  if (first === undefined || last === undefined) return [];
  const between = fields.slice(first + 1, last).filter((field) => field.part === undefined);
  if (between.length > 0) {
    findings.add(
      'PARAMETERS_INTERLEAVED',
      `the parameter${between.length > 1 ? 's' : ''} ${quoteList(between.map((field) => field.name))} sit${between.length > 1 ? '' : 's'} between CloudFront's own; CloudFront documents your parameters before ${QUERY.expires} or ${QUERY.policy} (or, rarely, after ${QUERY.keyPairId}), not among its own`,
    );
  }
  return fields.slice(last + 1);
}

/** The first value of each CloudFront part; a part given twice is a problem. */
function collectValues(
  source: Source,
  fields: readonly SigningField[],
  findings: Findings,
): SigningValues {
  const values: SigningValues = {};
  const counts = new Map<string, number>();
  for (const field of fields) {
    if (field.part !== undefined && values[field.part] === undefined) {
      values[field.part] = field.value;
    }
    // Verify refuses any repeated CloudFront- cookie, known or not; so does inspect.
    const counted =
      field.part !== undefined || (source === 'cookies' && field.name.startsWith('CloudFront-'));
    if (counted) counts.set(field.name, (counts.get(field.name) ?? 0) + 1);
  }
  for (const [name, count] of counts) {
    if (count < 2) continue;
    const where = source === 'url' ? 'in the query' : 'as a cookie';
    findings.add(
      'PARAMETER_DUPLICATED',
      `${name} appears ${count} times ${where}; CloudFront refuses a request that repeats it`,
      { parameter: name, cloudFrontError: 'AccessDenied' },
    );
  }
  return values;
}

function percentDecoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function looksLikeBase64Url(text: string): boolean {
  return text.length > 0 && Buffer.from(text, 'base64url').toString('base64url') === text;
}

/**
 * The bytes of a Policy or Signature value, naming each encoding problem on the way:
 * percent-encoding, the standard base64 alphabet, stray characters, a wrong length.
 * A value in the standard alphabet is still decoded, so its policy can be shown.
 */
function readBase64(
  parameter: string,
  value: string,
  cloudFrontError: CloudFrontErrorCode,
  findings: Findings,
): Buffer | undefined {
  const where = { parameter, cloudFrontError };
  let text = value;
  if (text.includes('%')) {
    findings.add(
      'BASE64_PERCENT_ENCODED',
      `${parameter} is percent-encoded (it contains '%'); CloudFront reads it as written, and CloudFront base64 never needs encoding`,
      where,
    );
    const decoded = percentDecoded(text);
    if (decoded === undefined) return undefined;
    text = decoded;
  }
  const standard = [...new Set(text.match(/[+/=]/g) ?? [])];
  if (standard.length > 0) {
    findings.add(
      'STANDARD_BASE64',
      `${parameter} contains ${quoteList(standard)}: it is standard base64, but CloudFront's alphabet writes '-' for '+', '_' for '=' and '~' for '/'`,
      where,
    );
    text = toCloudFrontAlphabet(text);
  }
  const stray = findNonCloudFrontBase64Character(text);
  if (stray !== undefined) {
    const hint = stray === ' ' ? " (a '+' read as a form-encoded space?)" : '';
    findings.add(
      'BASE64_INVALID',
      `${parameter} contains ${describeCharacter(stray)}${hint}, which is not in any base64 alphabet`,
      where,
    );
    return undefined;
  }
  const bytes = decodeCloudFrontBase64(text);
  if (bytes === undefined) {
    const hint = looksLikeBase64Url(text)
      ? ": it looks like RFC 4648 base64url, which writes '_' for '/' and drops the '=' padding; CloudFront's alphabet writes '~' for '/' and '_' for '='"
      : ' (truncated, or padded wrongly?)';
    findings.add('BASE64_INVALID', `${parameter} is not valid CloudFront base64${hint}`, where);
  }
  return bytes;
}

const POLICY_CONDITIONS = new Set(['DateLessThan', 'DateGreaterThan', 'IpAddress']);
const STATEMENT_FIELDS = new Set(['Resource', 'Condition']);

/**
 * Names what CloudFront's policy grammar does not have. Unknown conditions make CloudFront refuse
 * the policy; other unknown fields grant and deny nothing. Returns the unknown condition names.
 */
function checkPolicyFields(document: unknown, parameter: string, findings: Findings): string[] {
  if (!isRecord(document)) return [];
  const unknownField = (where: string, name: string): void => {
    findings.add(
      'POLICY_UNKNOWN_FIELD',
      `${where} has ${quoteInput(name)}, which is not in CloudFront's policy grammar: it grants and denies nothing, and CloudFront may refuse the policy for it`,
      { parameter },
    );
  };
  for (const name of Object.keys(document)) {
    if (name !== 'Statement') unknownField('the policy', name);
  }
  const statements = document['Statement'];
  if (!Array.isArray(statements)) return [];
  const unknownConditions: string[] = [];
  for (const statement of statements) {
    if (!isRecord(statement)) continue;
    for (const name of Object.keys(statement)) {
      if (!STATEMENT_FIELDS.has(name)) unknownField('the statement', name);
    }
    const condition = statement['Condition'];
    if (!isRecord(condition)) continue;
    for (const name of Object.keys(condition)) {
      if (POLICY_CONDITIONS.has(name)) continue;
      unknownConditions.push(name);
      findings.add(
        'POLICY_UNKNOWN_CONDITION',
        `the condition ${quoteInput(name)} is not one CloudFront knows (DateLessThan, DateGreaterThan, IpAddress), so CloudFront refuses the policy`,
        { parameter, cloudFrontError: 'MalformedPolicy' },
      );
    }
    const ip = condition['IpAddress'];
    if (isRecord(ip)) {
      for (const name of Object.keys(ip)) {
        if (name !== 'AWS:SourceIp') unknownField('IpAddress', name);
      }
    }
  }
  return unknownConditions;
}

function withoutConditions(document: Record<string, unknown>, names: readonly string[]): unknown {
  const statements = document['Statement'];
  if (!Array.isArray(statements)) return document;
  return {
    ...document,
    Statement: statements.map((statement: unknown) => {
      if (!isRecord(statement) || !isRecord(statement['Condition'])) return statement;
      const condition = Object.fromEntries(
        Object.entries(statement['Condition']).filter(([name]) => !names.includes(name)),
      );
      return { ...statement, Condition: condition };
    }),
  };
}

/** What a custom policy grants, as parseCustomPolicy reads it. */
interface CustomGrant {
  resource: string;
  hasResource: boolean;
  expiresAt: number;
  notBefore?: number;
  ipAddress?: string;
  ipBlock?: Ipv4Block;
}

/** Decodes a custom policy for display and judges it with parseCustomPolicy, naming its problems. */
function readCustomPolicy(
  parameter: string,
  value: string,
  inspection: Inspection,
  findings: Findings,
): CustomGrant | undefined {
  const bytes = readBase64(parameter, value, 'MalformedPolicy', findings);
  if (bytes === undefined) return undefined;
  const text = bytes.toString('utf8');
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    inspection.policy = escapeForDisplay(text, /[\x20-\x7E\n]/);
    findings.add('POLICY_NOT_JSON', `${parameter} decodes to text that is not JSON`, {
      parameter,
      cloudFrontError: 'MalformedPolicy',
    });
    return undefined;
  }
  const depth = jsonNestingDepth(text);
  if (depth > MAX_POLICY_DEPTH) {
    // Printing or walking it would recurse that deep; a CloudFront policy is 5 levels deep.
    inspection.policy = escapeForDisplay(text.slice(0, 1024));
    findings.add(
      'POLICY_MALFORMED',
      `${parameter} nests ${depth} levels deep; a CloudFront policy has 5 (Statement, its item, Condition, a condition, its value)`,
      { parameter, cloudFrontError: 'MalformedPolicy' },
    );
    return undefined;
  }
  inspection.policy = prettyJson(document);
  const keyProblem = findJsonKeyProblem(text);
  if (keyProblem?.kind === 'duplicate') {
    findings.add(
      'POLICY_DUPLICATE_KEY',
      `the policy has the key ${quoteInput(keyProblem.key)} more than once; JSON readers disagree on which one counts, so what CloudFront grants is not what it seems`,
      { parameter },
    );
  }
  const unknownConditions = checkPolicyFields(document, parameter, findings);
  // Unknown conditions are named above; the rest of the policy is still judged without them.
  const judged =
    unknownConditions.length > 0 && isRecord(document)
      ? encodeCloudFrontBase64(JSON.stringify(withoutConditions(document, unknownConditions)))
      : encodeCloudFrontBase64(bytes);
  try {
    const parsed = parseCustomPolicy(judged);
    const statement: unknown =
      isRecord(document) && Array.isArray(document['Statement'])
        ? document['Statement'][0]
        : undefined;
    const grant: CustomGrant = {
      resource: parsed.resource,
      hasResource: isRecord(statement) && 'Resource' in statement,
      expiresAt: parsed.expiresAt,
    };
    if (parsed.notBefore !== undefined) grant.notBefore = parsed.notBefore;
    if (parsed.ipAddress !== undefined) grant.ipAddress = parsed.ipAddress;
    if (parsed.ipBlock !== undefined) grant.ipBlock = parsed.ipBlock;
    return grant;
  } catch (error) {
    if (!(error instanceof SignerError)) throw error;
    findings.add('POLICY_MALFORMED', error.message, {
      parameter,
      cloudFrontError: 'MalformedPolicy',
    });
    return undefined;
  }
}

function readExpires(parameter: string, value: string, findings: Findings): number | undefined {
  if (/^\d{1,10}$/.test(value) && Number(value) <= MAX_EPOCH_SECONDS) return Number(value);
  const hint = /^\d{13}$/.test(value) ? '; it looks like milliseconds (divide by 1000)' : '';
  findings.add(
    'EXPIRES_INVALID',
    `${parameter} is ${quoteInput(value)}, not whole epoch seconds up to ${MAX_EPOCH_SECONDS}${hint}`,
    { parameter, cloudFrontError: 'MalformedPolicy' },
  );
  return undefined;
}

function readHash(
  source: Source,
  value: string | undefined,
  findings: Findings,
): HashAlgorithm | undefined {
  if (value === undefined || value === HASH_ALGORITHM_VALUE.sha1) return 'sha1';
  if (value === HASH_ALGORITHM_VALUE.sha256) return 'sha256';
  const parameter = wireName(source, 'hashAlgorithm');
  findings.add(
    'HASH_UNSUPPORTED',
    `${parameter} is ${quoteInput(value)}; CloudFront knows ${HASH_ALGORITHM_VALUE.sha1} and ${HASH_ALGORITHM_VALUE.sha256}`,
    { parameter, cloudFrontError: 'AccessDenied' },
  );
  return undefined;
}

/** Whether a resource pattern fixes the scheme and host: no wildcard before the path. */
function namesOneHost(resource: string): boolean {
  return /^https?:\/\/[^/*?]+(?:\/|$)/.test(resource);
}

function checkResource(
  grant: CustomGrant,
  requestUrl: string,
  keyPairId: string | undefined,
  findings: Findings,
): void {
  if (!namesOneHost(grant.resource)) {
    const what = grant.hasResource
      ? `the resource ${quoteInput(grant.resource, 200)} does not name one host`
      : 'the policy has no Resource, which CloudFront reads as every URL';
    findings.add(
      'RESOURCE_UNRESTRICTED',
      `${what}: the signature also opens other URLs on every distribution that trusts ${keyPairId === undefined ? 'this key' : `key ${quoteInput(keyPairId)}`}`,
    );
  }
  if (!matchesResourcePattern(grant.resource, requestUrl)) {
    findings.add(
      'RESOURCE_MISMATCH',
      `the resource ${quoteInput(grant.resource, 200)} does not cover ${quoteInput(requestUrl, 200)}, the URL CloudFront matches it against (the request without CloudFront's parameters)`,
      { cloudFrontError: 'AccessDenied' },
    );
  }
}

function checkTimes(inspection: Inspection, now: number, findings: Findings): void {
  const { expiresAt, notBefore } = inspection;
  if (expiresAt !== undefined) {
    const delta = expiresAt - now;
    const relative =
      delta > 0
        ? `expires ${describeRelative(delta)}`
        : delta === 0
          ? 'expired just now'
          : `expired ${describeRelative(delta)}`;
    inspection.expiry = { utc: iso(expiresAt), relative };
    if (delta <= 0) {
      findings.add('EXPIRED', `the link ${relative}, at ${iso(expiresAt)} (DateLessThan)`, {
        cloudFrontError: 'AccessDenied',
      });
    }
  }
  if (notBefore !== undefined) {
    const delta = notBefore - now;
    const relative =
      delta >= 0 ? `starts ${describeRelative(delta)}` : `started ${describeRelative(delta)}`;
    inspection.start = { utc: iso(notBefore), relative };
    if (delta >= 0) {
      findings.add(
        'NOT_YET_VALID',
        `the link is not valid until after ${iso(notBefore)} (DateGreaterThan); it ${relative}`,
        { cloudFrontError: 'AccessDenied' },
      );
    }
  }
}

/** The viewer's address as verify reads it; an invalid one matches no block. */
function viewerAddress(address: string): string {
  try {
    return parseViewerAddress(address);
  } catch {
    return address;
  }
}

interface Subject {
  source: Source;
  requestUrl: string;
  values: SigningValues;
  /** Own query parameters after CloudFront's (signed URLs only). */
  appended: readonly SigningField[];
}

/** Everything that can be read and judged without a key. */
function analyze(
  subject: Subject,
  options: InspectOptions,
  inspection: Inspection,
  findings: Findings,
): void {
  const { source, requestUrl, values } = subject;
  const name = (part: SigningPart): string => wireName(source, part);
  inspection.requestUrl = requestUrl;
  if (values.keyPairId === undefined || values.keyPairId === '') {
    findings.add('PARAMETER_MISSING', `${name('keyPairId')} is missing`, {
      parameter: name('keyPairId'),
      cloudFrontError: 'MissingKey',
    });
  } else {
    inspection.keyPairId = values.keyPairId;
  }
  const hash = readHash(source, values.hashAlgorithm, findings);
  if (hash !== undefined) inspection.hash = hash;
  if (values.signature === undefined || values.signature === '') {
    findings.add('PARAMETER_MISSING', `${name('signature')} is missing`, {
      parameter: name('signature'),
      cloudFrontError: 'MissingKey',
    });
  } else {
    readBase64(name('signature'), values.signature, 'MalformedSignature', findings);
  }

  let grant: CustomGrant | undefined;
  if (values.expires !== undefined && values.policy !== undefined) {
    findings.add(
      'EXPIRES_AND_POLICY',
      `both ${name('expires')} and ${name('policy')} are present; a link has one or the other (the policy below is the custom one)`,
      { cloudFrontError: 'MalformedPolicy' },
    );
  }
  if (values.policy !== undefined) {
    inspection.policyType = 'custom';
    grant = readCustomPolicy(name('policy'), values.policy, inspection, findings);
  } else if (values.expires !== undefined) {
    inspection.policyType = 'canned';
    const expiresAt = readExpires(name('expires'), values.expires, findings);
    if (expiresAt !== undefined) {
      inspection.resource = requestUrl;
      inspection.expiresAt = expiresAt;
      inspection.policy = prettyJson(JSON.parse(buildCannedPolicy(requestUrl, expiresAt)));
    }
    if (subject.appended.length > 0) {
      const names = subject.appended.map((field) => field.name);
      const [verb, pronoun, was] =
        names.length > 1 ? ['come', 'they', 'were'] : ['comes', 'it', 'was'];
      findings.add(
        'CANNED_QUERY_APPENDED',
        `${quoteList(names)} ${verb} after CloudFront's parameters, where players append theirs: a canned policy covers the exact URL including its query, so the signature holds only if ${pronoun} ${was} there at signing; to let a player add parameters, sign a custom policy whose resource ends with '*'`,
      );
    }
  } else {
    // An unencoded '?' in an object key starts the query early: `/a?.mp4?Policy=…`.
    const early = readQueryFields(requestUrl).fields.some(
      (field) =>
        field.name.endsWith(`?${QUERY.policy}`) || field.name.endsWith(`?${QUERY.expires}`),
    )
      ? "; the URL has a second '?' just before it: an unencoded '?' in the object key started the query early (encode it as %3F)"
      : '';
    findings.add(
      'PARAMETER_MISSING',
      `neither ${name('expires')} (canned policy) nor ${name('policy')} (custom policy) is present${early}`,
      { cloudFrontError: 'MissingKey' },
    );
  }

  if (grant !== undefined) {
    inspection.resource = grant.resource;
    inspection.expiresAt = grant.expiresAt;
    if (grant.notBefore !== undefined) inspection.notBefore = grant.notBefore;
    if (grant.ipAddress !== undefined) inspection.ipAddress = grant.ipAddress;
    checkResource(grant, requestUrl, inspection.keyPairId, findings);
  }
  checkTimes(inspection, epochSeconds(options.now), findings);
  if (grant?.ipBlock !== undefined && options.ipAddress !== undefined) {
    const viewer = viewerAddress(options.ipAddress);
    if (!ipv4BlockContains(grant.ipBlock, viewer)) {
      findings.add(
        'IP_MISMATCH',
        `the viewer address ${quoteInput(viewer)} is outside ${grant.ipBlock.cidr}, the only block the policy allows`,
        { cloudFrontError: 'AccessDenied' },
      );
    }
  }
}

function verifyOptions(options: InspectOptions, keys: KeyLookup) {
  return options.ipAddress === undefined
    ? { keys, now: options.now }
    : { keys, now: options.now, ipAddress: options.ipAddress };
}

function withoutPolicy(verdict: Verdict): InspectionVerdict {
  const { policy: _policy, ...rest } = verdict;
  return rest;
}

const FIELD_ORDER = [
  'requestUrl',
  'policyType',
  'keyPairId',
  'hash',
  'resource',
  'expiresAt',
  'expiry',
  'notBefore',
  'start',
  'ipAddress',
  'policy',
] as const satisfies readonly (keyof Inspection)[];

/** The inspection with its fields in a fixed, readable order, and its outcome. */
function finish(
  inspection: Inspection,
  findings: Findings,
  verdict?: InspectionVerdict,
): Inspection {
  const ordered: Record<string, unknown> = {
    ok: findings.problems.length === 0 && (verdict?.valid ?? true),
    source: inspection.source,
  };
  for (const key of FIELD_ORDER) {
    if (inspection[key] !== undefined) ordered[key] = inspection[key];
  }
  ordered['problems'] = findings.problems;
  if (verdict !== undefined) ordered['verdict'] = verdict;
  return ordered as unknown as Inspection;
}

/** The own parameters appended after CloudFront's: with a key, see whether the link holds without them. */
function confirmAppended(
  browserUrl: string,
  appended: readonly SigningField[],
  verdict: InspectionVerdict,
  options: InspectOptions,
  keys: KeyLookup,
  findings: Findings,
): void {
  const problem = findings.problems.find((candidate) => candidate.code === 'CANNED_QUERY_APPENDED');
  if (problem === undefined || verdict.failure !== 'BAD_SIGNATURE') return;
  const query = readQueryFields(browserUrl);
  const kept = query.fields
    .slice(0, query.fields.length - appended.length)
    .map((field) => field.raw);
  const trimmed = verifyUrl(`${query.base}?${kept.join('&')}`, verifyOptions(options, keys));
  if (trimmed.valid) {
    const names = quoteList(appended.map((field) => field.name));
    const [pronoun, was] = appended.length > 1 ? ['they', 'were'] : ['it', 'was'];
    problem.message += `. With the key: the link is valid without ${names}, so ${pronoun} ${was} added after signing`;
  }
}

/**
 * Reads a signed URL without needing a key: the decoded policy, expiry and start, conditions,
 * hash, Key-Pair-Id and policy type, and every problem visible in it, each with a stable code.
 * With `keys`, also the verdict of {@link verifyUrl}. Never throws for a bad link: a bad link
 * is a problem in the result.
 *
 * @throws {SignerError} `ERR_DATE_INVALID` when `now` is an invalid Date (as verifyUrl does)
 */
export function inspectUrl(signedUrl: string, options: InspectOptions): Inspection {
  epochSeconds(options.now);
  const findings = new Findings();
  const inspection: Inspection = { ok: false, source: 'url', problems: [] };
  const browserUrl = readRequestUrl(signedUrl, findings);
  let appended: SigningField[] = [];
  if (browserUrl !== undefined) {
    const query = readQueryFields(browserUrl);
    appended = checkPlacement(query.fields, findings);
    const values = collectValues('url', query.fields, findings);
    const requestUrl = requestUrlWithoutSigning(query);
    analyze({ source: 'url', requestUrl, values, appended }, options, inspection, findings);
  }
  if (options.keys === undefined) return finish(inspection, findings);
  const verdict = withoutPolicy(verifyUrl(signedUrl, verifyOptions(options, options.keys)));
  if (browserUrl !== undefined && appended.length > 0) {
    confirmAppended(browserUrl, appended, verdict, options, options.keys, findings);
  }
  return finish(inspection, findings, verdict);
}

/**
 * Reads a request for `url` carrying CloudFront signed cookies (a `Cookie` header, or name →
 * value pairs) as {@link inspectUrl} reads a signed URL. When the URL carries signed-URL
 * parameters, CloudFront judges those and ignores the cookies; so does this, with a warning.
 *
 * @throws {SignerError} `ERR_DATE_INVALID` when `now` is an invalid Date
 */
export function inspectCookies(
  url: string,
  cookies: string | Readonly<Record<string, string>>,
  options: InspectOptions,
): Inspection {
  epochSeconds(options.now);
  const findings = new Findings();
  const inspection: Inspection = { ok: false, source: 'cookies', problems: [] };
  const browserUrl = readRequestUrl(url, findings);
  if (browserUrl !== undefined) {
    const query = readQueryFields(browserUrl);
    const requestUrl = requestUrlWithoutSigning(query);
    if (query.fields.some((field) => field.part !== undefined)) {
      findings.add(
        'COOKIES_IGNORED',
        'the URL carries signed-URL parameters, so CloudFront judges the URL and ignores the cookies',
      );
      inspection.source = 'url';
      const appended = checkPlacement(query.fields, findings);
      const values = collectValues('url', query.fields, findings);
      analyze({ source: 'url', requestUrl, values, appended }, options, inspection, findings);
    } else {
      const values = collectValues('cookies', readCookieFields(cookies), findings);
      analyze(
        { source: 'cookies', requestUrl, values, appended: [] },
        options,
        inspection,
        findings,
      );
    }
  }
  if (options.keys === undefined) return finish(inspection, findings);
  const verdict = verifyCookies(url, cookies, verifyOptions(options, options.keys));
  return finish(inspection, findings, withoutPolicy(verdict));
}
