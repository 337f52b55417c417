import { Type } from 'typebox';
import { INSPECTION_PROBLEM_CODES, inspectCookies, inspectUrl } from '../../core/inspect.ts';
import type { App, ServerContext } from '../context.ts';
import {
  CloudFrontErrorSchema,
  HashSchema,
  judgingOptions,
  JudgeRequestSchema,
  PolicyTypeSchema,
  VerdictSchema,
} from '../judging.ts';
import { errorResponses } from '../schemas.ts';

const Optional = Type.Optional;

const DescribedTimeSchema = Type.Object(
  {
    utc: Type.String({ description: 'e.g. 2026-06-01T12:10:00Z' }),
    relative: Type.String({ description: 'e.g. "expires in 4 min", "expired 2 h ago"' }),
  },
  { additionalProperties: false },
);

const ProblemSchema = Type.Object(
  {
    code: Type.Enum([...INSPECTION_PROBLEM_CODES], {
      description: 'Stable problem code (see docs/errors.md, "Inspection problems").',
    }),
    severity: Type.Union([Type.Literal('error'), Type.Literal('warning')], {
      description:
        '`error`: CloudFront refuses the link for it. `warning`: it may fail, or grants more than it seems.',
    }),
    parameter: Optional(
      Type.String({ description: 'The CloudFront parameter or cookie concerned.' }),
    ),
    message: Type.String({ description: 'One sentence: what is wrong and how to fix it.' }),
    cloudFrontError: Optional(CloudFrontErrorSchema),
  },
  { additionalProperties: false },
);

/** What the link says and every problem in it. Never the signature. */
const InspectionSchema = Type.Object(
  {
    ok: Type.Boolean({ description: 'No problem found, and the verdict is valid.' }),
    source: Type.Union([Type.Literal('url'), Type.Literal('cookies')], {
      description: 'Where CloudFront reads the signing values (URL parameters win over cookies).',
    }),
    requestUrl: Optional(
      Type.String({
        description:
          "The URL the policy is matched against: as a browser sends it, without CloudFront's parameters.",
      }),
    ),
    policyType: Optional(PolicyTypeSchema),
    keyPairId: Optional(Type.String()),
    hash: Optional(HashSchema),
    resource: Optional(Type.String({ description: 'The URL or URL pattern the policy grants.' })),
    expiresAt: Optional(Type.Integer({ description: 'DateLessThan, epoch seconds.' })),
    expiry: Optional(DescribedTimeSchema),
    notBefore: Optional(Type.Integer({ description: 'DateGreaterThan, epoch seconds.' })),
    start: Optional(DescribedTimeSchema),
    ipAddress: Optional(Type.String({ description: 'The IpAddress condition, a CIDR block.' })),
    policy: Optional(
      Type.String({
        description:
          'The decoded policy, pretty JSON with non-ASCII escaped (for a canned link, the one CloudFront rebuilds).',
      }),
    ),
    problems: Type.Array(ProblemSchema),
    verdict: VerdictSchema,
  },
  { additionalProperties: false },
);

/** `POST /v1/inspect`: what a link says, every problem visible in it, and the verdict. */
export function registerInspect(app: App, context: ServerContext): void {
  app.post(
    '/v1/inspect',
    {
      config: { signing: true },
      schema: {
        summary:
          'Explain a signed URL or signed cookies: the policy, its times, every problem, and the verdict',
        description:
          "Decodes the link without a key, lists every problem visible in it with a stable code, and judges it against this service's keys. Always 200 for a well-formed request; `ok` says the outcome. The signature is never returned.",
        tags: ['verification'],
        body: JudgeRequestSchema,
        response: { 200: InspectionSchema, ...errorResponses(400, 401, 413, 415, 429, 500) },
      },
    },
    async (request) => {
      const { url, cookies } = request.body;
      const options = judgingOptions(request, request.body, context);
      const inspection =
        cookies === undefined ? inspectUrl(url, options) : inspectCookies(url, cookies, options);
      const { verdict } = inspection;
      // Keys were given, so there is always a verdict.
      if (verdict === undefined) throw new Error('inspection without a verdict');
      return { ...inspection, verdict };
    },
  );
}
