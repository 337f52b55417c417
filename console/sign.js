import qrcode from './qrcode.mjs';
import {
  clearError,
  describeFromNow,
  filledFields,
  parseSeconds,
  postJson,
  readToken,
  saveToken,
  showError,
  utc,
} from './api.js';

const byId = (id) => document.getElementById(id);

const tokenInput = byId('token');
tokenInput.value = readToken();
tokenInput.addEventListener('input', () => saveToken(tokenInput.value.trim()));
// Enter in the token field must not submit it anywhere (the page's CSP forbids that too).
byId('token-form').addEventListener('submit', (event) => event.preventDefault());
byId('token-forget').addEventListener('click', () => {
  tokenInput.value = '';
  saveToken('');
  tokenInput.focus();
});

/** Draws the link as a QR code, one canvas pixel block per module, with a quiet zone. */
function drawQrCode(canvas, text) {
  const code = qrcode(0, 'L');
  code.addData(text, 'Byte');
  code.make();
  const modules = code.getModuleCount();
  const scale = Math.max(2, Math.floor(320 / (modules + 8)));
  const size = (modules + 8) * scale;
  canvas.width = size;
  canvas.height = size;
  const context = canvas.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, size, size);
  context.fillStyle = '#000000';
  for (let row = 0; row < modules; row += 1) {
    for (let column = 0; column < modules; column += 1) {
      if (code.isDark(row, column)) {
        context.fillRect((column + 4) * scale, (row + 4) * scale, scale, scale);
      }
    }
  }
}

function grantFields(form) {
  const fields = filledFields(form, [
    'expiresIn',
    'distribution',
    'notBefore',
    'ipAddress',
    'resource',
  ]);
  if (fields.expiresIn !== undefined) fields.expiresIn = parseSeconds(fields.expiresIn, 'Lifetime');
  if (fields.notBefore !== undefined && /^[0-9]+$/.test(fields.notBefore)) {
    fields.notBefore = Number(fields.notBefore);
  }
  return fields;
}

const urlForm = byId('url-form');
urlForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = byId('url-error');
  clearError(error);
  byId('url-result').hidden = true;
  try {
    const key = urlForm.elements.namedItem('key').value;
    if (key === '') throw new Error('Object key is required');
    const { distribution, ...conditions } = grantFields(urlForm);
    const body = { items: [{ key, ...conditions }] };
    if (distribution !== undefined) body.distribution = distribution;
    const [signed] = (await postJson('/v1/signed-urls', body)).items;
    byId('url-output').value = signed.url;
    byId('url-open').href = signed.url;
    byId('url-copied').textContent = '';
    byId('url-expiry').textContent =
      `Expires ${utc(signed.expiresAt)} (${describeFromNow(signed.expiresAt)}).`;
    drawQrCode(byId('url-qr'), signed.url);
    byId('url-result').hidden = false;
    byId('url-output').focus();
  } catch (caught) {
    showError(error, caught);
  }
});

byId('url-copy').addEventListener('click', async () => {
  const output = byId('url-output');
  const status = byId('url-copied');
  try {
    await navigator.clipboard.writeText(output.value);
    status.textContent = 'Copied.';
  } catch {
    // Without clipboard access (plain http from another host), select it for Ctrl+C instead.
    output.select();
    status.textContent = 'Selected: press Ctrl+C to copy.';
  }
});

const cookiesForm = byId('cookies-form');
cookiesForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = byId('cookies-error');
  clearError(error);
  byId('cookies-result').hidden = true;
  try {
    const resource = cookiesForm.elements.namedItem('resource').value;
    if (resource === '') throw new Error('Key pattern is required');
    const body = { resource, ...grantFields(cookiesForm) };
    const signed = await postJson('/v1/signed-cookies', body);
    const table = byId('cookies-table');
    table.replaceChildren();
    for (const [name, value] of Object.entries(signed.cookies)) {
      const row = document.createElement('tr');
      const nameCell = document.createElement('th');
      nameCell.scope = 'row';
      nameCell.textContent = name;
      const valueCell = document.createElement('td');
      valueCell.textContent = value;
      row.append(nameCell, valueCell);
      table.append(row);
    }
    byId('cookies-summary').textContent =
      `Cookies for ${resource}, valid until ${utc(signed.expiresAt)} (${describeFromNow(signed.expiresAt)}). ` +
      'This browser keeps them when the service shares a domain with the distribution (as in dev mode, or with a cookie Domain both are under).';
    byId('cookies-result').hidden = false;
  } catch (caught) {
    showError(error, caught);
  }
});
