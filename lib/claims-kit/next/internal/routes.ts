// The provider-facing routes nextClaimsKit() serves only when configured (back-channel logout,
// Shared Signals push): without a handler they answer 404, so the provider sees no endpoint.

/**
 * A route's `POST`: the handler's, or 404 when there is none.
 *
 * @example
 * ```ts
 * export const { POST } = optionalRoute(options.ssf);
 * ```
 */
export function optionalRoute(handler: { POST(request: Request): Promise<Response> } | undefined): { POST(request: Request): Promise<Response> } {
  return { POST: handler ? (request) => handler.POST(request) : async () => new Response(null, { status: 404, headers: { "cache-control": "no-store" } }) };
}
