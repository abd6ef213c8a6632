// Register <app origin>/api/auth/backchannel-logout as backchannel_logout_uri at the provider.
import { backchannelRoute } from "@/auth";
export const { POST } = backchannelRoute;
