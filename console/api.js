// What both console pages share: the token (this tab only) and calls to the service's API.
const TOKEN_KEY = 'cfsign.token';

/** The token typed into the Sign page, kept in sessionStorage only: gone when the tab closes. */
export function readToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function saveToken(token) {
  if (token === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/**
 * POSTs JSON to the service and returns the parsed body; throws an Error whose message is the
 * service's code and message, so the page can show exactly what the API said.
 */
export async function postJson(path, body) {
  const headers = { 'content-type': 'application/json' };
  const token = readToken();
  if (token !== '') headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`the service answered ${response.status} without JSON`);
  }
  if (!response.ok) {
    const code = typeof parsed.error === 'string' ? parsed.error : `HTTP ${response.status}`;
    throw new Error(`${code}: ${parsed.message ?? 'request failed'}`);
  }
  return parsed;
}

/** Copies the trimmed values of those named fields that the form has and that are not empty. */
export function filledFields(form, names) {
  const values = {};
  for (const name of names) {
    const value = form.elements.namedItem(name)?.value.trim() ?? '';
    if (value !== '') values[name] = value;
  }
  return values;
}

/** Turns a whole-seconds field into an integer, or says what is wrong with it. */
export function parseSeconds(text, label) {
  if (!/^[1-9][0-9]{0,9}$/.test(text))
    throw new Error(`${label} must be a whole number of seconds`);
  return Number(text);
}

/** "in 4 min 12 s" / "3 min ago", for a live countdown. */
export function describeFromNow(epochSeconds, nowMs = Date.now()) {
  const delta = Math.round(epochSeconds - nowMs / 1000);
  const span = Math.abs(delta);
  const parts = [];
  const days = Math.floor(span / 86400);
  const hours = Math.floor((span % 86400) / 3600);
  const minutes = Math.floor((span % 3600) / 60);
  const seconds = span % 60;
  if (days > 0) parts.push(`${days} d`);
  if (hours > 0) parts.push(`${hours} h`);
  if (minutes > 0 && days === 0) parts.push(`${minutes} min`);
  if (days === 0 && hours === 0) parts.push(`${seconds} s`);
  const text = parts.join(' ');
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

export function showError(element, error) {
  element.textContent = error instanceof Error ? error.message : String(error);
  element.hidden = false;
}

export function clearError(element) {
  element.textContent = '';
  element.hidden = true;
}

export function utc(epochSeconds) {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}
