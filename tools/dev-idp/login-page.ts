/** The development identity provider's sign-in form: plain HTML, no script, every value escaped. */
export function loginPage(opts: { action: string; clientId: string; error?: string; username?: string }): string {
  const error = opts.error ? `<p class="error" role="alert">${escape(opts.error)}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in: Meditron development identity provider</title>
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem;color:#111}
h1{font-size:1.3rem;color:#5b2a86}label{display:flex;flex-direction:column;gap:.2rem;margin:.6rem 0;font-weight:600}
input{font:inherit;padding:.4rem;border:1px solid #666;border-radius:3px}button{font:inherit;padding:.45rem 1rem;
background:#5b2a86;color:#fff;border:0;border-radius:3px}.error{color:#a00;font-weight:600}.hint{color:#555;font-size:.85rem}</style>
</head><body>
<h1>Development identity provider</h1>
<p class="hint">Signing in to <strong>${escape(opts.clientId)}</strong>. For local development and tests only; in a
hospital this page is the organisation's own (Entra ID, Okta, Keycloak, ADFS).</p>
${error}
<form method="post" action="${escape(opts.action)}" autocomplete="off">
<label>Username <input name="username" required autofocus value="${escape(opts.username ?? '')}"></label>
<label>Password <input name="password" type="password" required></label>
<button type="submit">Sign in</button>
</form></body></html>`;
}

/** The sign-out confirmation: `form` is the provider's own hidden form (with its CSRF value), submitted by the buttons. */
export function logoutPage(form: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign out: Meditron development identity provider</title></head>
<body style="font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto">
<h1 style="font-size:1.3rem">Sign out of the development identity provider?</h1>
${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>
</body></html>`;
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
