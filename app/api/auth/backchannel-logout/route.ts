import { makeBackchannel } from "@/auth.config";
import { kit } from "@/auth";

// OIDC Back-Channel Logout: register http(s)://<this app>/api/auth/backchannel-logout as the
// client's backchannel_logout_uri (with backchannel_logout_session_required) at the provider.
// A static segment, so it wins over Auth.js's [...nextauth] catch-all.
export const { POST } = makeBackchannel(kit);
