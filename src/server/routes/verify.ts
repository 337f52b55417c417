import { verifyCookies, verifyUrl } from '../../core/verify.ts';
import type { App, ServerContext } from '../context.ts';
import { judgingOptions, JudgeRequestSchema, VerdictSchema } from '../judging.ts';
import { errorResponses } from '../schemas.ts';

/** `POST /v1/verify`: would CloudFront accept this link (or these cookies), and if not, why. */
export function registerVerify(app: App, context: ServerContext): void {
  app.post(
    '/v1/verify',
    {
      config: { signing: true },
      schema: {
        summary: 'Explain whether CloudFront would accept a signed URL or signed cookies',
        description:
          "Judges the link as CloudFront would, against this service's keys, and returns the precise reason when it would be refused. Always 200 for a well-formed request; `valid` says the outcome.",
        tags: ['verification'],
        body: JudgeRequestSchema,
        response: { 200: VerdictSchema, ...errorResponses(400, 401, 413, 415, 429, 500) },
      },
    },
    async (request) => {
      const { url, cookies } = request.body;
      const options = judgingOptions(request, request.body, context);
      const verdict =
        cookies === undefined ? verifyUrl(url, options) : verifyCookies(url, cookies, options);
      const { policy: _policy, ...withoutPolicy } = verdict;
      return withoutPolicy;
    },
  );
}
