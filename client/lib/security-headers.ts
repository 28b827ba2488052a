/**
 * The web app's Content-Security-Policy. Scripts run only with this response's nonce (Next.js
 * puts it on its own scripts), and scripts those load ('strict-dynamic': Stripe.js, added by the
 * payment form); nothing may frame the site. Inline style attributes are allowed: the pages set
 * a colour per ticket that way, and a style cannot run code.
 */
export function contentSecurityPolicy(nonce: string, development = false): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic' https://js.stripe.com${development ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    "connect-src 'self' https://api.stripe.com",
    "frame-src https://js.stripe.com https://hooks.stripe.com",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}
