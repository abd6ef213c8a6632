import { handlers, sessionActive } from "@/auth";
import { authConfig, linkProviders } from "@/auth.config";
import { guardedHandlers } from "@/lib/claims-kit/next/server";

// The sign-in callback sees the session cookie only to link a second provider (linkProviders) to a
// session the registry holds as active: Auth.js would otherwise link a new provider account to
// whoever that cookie belongs to, even a revoked one. With the config, a GET of the session
// endpoint runs Auth.js's session action without first minting a CSRF token it does not need.
export const { GET, POST } = guardedHandlers(handlers, { link: { providers: linkProviders, sessionActive }, config: authConfig });
