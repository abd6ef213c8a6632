// The Shared Signals push endpoint (RFC 8935): register <AUTH_SSF_AUDIENCE or app origin>/api/auth/ssf/events
// as the stream's endpoint_url at the transmitter. Without AUTH_SSF_ISSUER it answers 404.
import { ssfRoute } from "@/auth";
export const { POST } = ssfRoute;
