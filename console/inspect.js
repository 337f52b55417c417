import { clearError, describeFromNow, filledFields, postJson, showError, utc } from './api.js';

const byId = (id) => document.getElementById(id);
let countdown;

function addDetail(list, term, value) {
  if (value === undefined || value === null || value === '') return;
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  dd.textContent = String(value);
  list.append(dt, dd);
}

/** Ticks once a second: "expires in 4 min 12 s", then "expired 3 s ago". */
function startCountdown(expiresAt, notBefore) {
  clearInterval(countdown);
  const element = byId('countdown');
  const tick = () => {
    const now = Date.now();
    if (notBefore !== undefined && now / 1000 < notBefore) {
      element.textContent = `Not valid yet: starts ${describeFromNow(notBefore, now)}`;
    } else if (now / 1000 < expiresAt) {
      element.textContent = `Expires ${describeFromNow(expiresAt, now)}`;
    } else {
      element.textContent = `Expired ${describeFromNow(expiresAt, now)}`;
    }
  };
  tick();
  countdown = setInterval(tick, 1000);
}

function render(result) {
  const { verdict } = result;
  const verdictElement = byId('verdict');
  verdictElement.className = verdict.valid ? 'valid' : 'invalid';
  verdictElement.textContent = verdict.valid
    ? `Valid: ${verdict.reason}`
    : `Refused: ${verdict.reason}${verdict.cloudFrontError === undefined ? '' : ` (CloudFront answers 403 ${verdict.cloudFrontError})`}`;

  const problems = byId('problems');
  problems.replaceChildren();
  const findings = [
    ...result.problems.map((problem) => `${problem.severity} ${problem.code}: ${problem.message}`),
    ...verdict.warnings.map((warning) => `warning: ${warning}`),
  ];
  if (findings.length === 0) findings.push('None found.');
  for (const finding of findings) {
    const item = document.createElement('li');
    item.textContent = finding;
    problems.append(item);
  }

  const details = byId('details');
  details.replaceChildren();
  const facts = result;
  addDetail(details, 'Read from', facts.source === 'cookies' ? 'cookies' : 'the URL');
  addDetail(details, 'Policy type', facts.policyType);
  addDetail(details, 'Key-Pair-Id', facts.keyPairId);
  addDetail(details, 'Hash', facts.hash);
  addDetail(details, 'Resource', facts.resource);
  addDetail(details, 'Requested URL', facts.requestUrl);
  if (facts.expiresAt !== undefined) addDetail(details, 'Expires', utc(facts.expiresAt));
  if (facts.notBefore !== undefined) addDetail(details, 'Not before', utc(facts.notBefore));
  addDetail(details, 'IP address', facts.ipAddress);

  // Already pretty-printed by the service (or the raw text, when it is not JSON).
  byId('policy').textContent = facts.policy ?? '(none)';
  if (facts.expiresAt !== undefined) startCountdown(facts.expiresAt, facts.notBefore);
  else byId('countdown').textContent = '';
  byId('inspect-result').hidden = false;
}

const form = byId('inspect-form');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = byId('inspect-error');
  clearError(error);
  try {
    const fields = filledFields(form, ['url', 'cookie', 'ipAddress']);
    if (fields.url === undefined) throw new Error('Paste a signed URL first');
    const body = { url: fields.url };
    if (fields.cookie !== undefined) body.cookies = fields.cookie;
    if (fields.ipAddress !== undefined) body.ipAddress = fields.ipAddress;
    render(await postJson('/v1/inspect', body));
    byId('verdict').focus();
  } catch (caught) {
    byId('inspect-result').hidden = true;
    showError(error, caught);
  }
});
