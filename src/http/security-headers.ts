// Response headers every answer carries (set in server.ts's onSend hook). A route that writes its
// response itself (reply.hijack(), e.g. WADO-RS's pooled writer) skips that hook and sets these.
export function securityHeaders(tls: boolean): Record<string, string> {
  return {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    ...(tls ? { 'Strict-Transport-Security': 'max-age=31536000' } : {}),
  };
}
