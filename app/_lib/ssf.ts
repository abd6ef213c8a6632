// The reference app's Shared Signals receiver (SSF 1.0, CAEP, RISC), built from its configuration:
// AUTH_SSF_ISSUER (unset: none, and POST /api/auth/ssf/events answers 404), AUTH_SSF_AUDIENCE,
// AUTH_SSF_ALGS, AUTH_SSF_PUSH_TOKEN, and poll delivery (AUTH_SSF_POLL_*). Effects are the kit's
// defaults; the device-compliance hook only records what it was told.
import type { AppEnv } from "@/app/_lib/env";
import { ClaimsKitError, type KitLogger } from "@/lib/claims-kit";
import { sharedSignals, type SecurityEffectsKit, type SharedSignalsHandler } from "@/lib/claims-kit/oidc";
import { prismaReplayStore, prismaSecurityEventLog } from "@/lib/claims-kit/prisma";
import type { PrismaClient } from "@/prisma/generated/prisma/client";

/** The environment variable behind each receiver option, so a start-up error names it. */
const SSF_ENV: Readonly<Record<string, string>> = { issuer: "AUTH_SSF_ISSUER", audience: "AUTH_SSF_AUDIENCE", algorithms: "AUTH_SSF_ALGS", pushToken: "AUTH_SSF_PUSH_TOKEN" };

/** The audience: AUTH_SSF_AUDIENCE, else the origin of AUTH_URL (never a request's Host: it is the sender's to choose). */
function audienceOf(env: AppEnv): string {
  if (env.AUTH_SSF_AUDIENCE) return env.AUTH_SSF_AUDIENCE;
  if (env.AUTH_URL) return new URL(env.AUTH_URL).origin;
  return "";
}

/**
 * The receiver, or undefined without AUTH_SSF_ISSUER. `check()` names the variable at fault;
 * `startPolling()` polls AUTH_SSF_POLL_URL every AUTH_SSF_POLL_INTERVAL seconds (when set).
 */
export function appSharedSignals(env: AppEnv, deps: { kit: SecurityEffectsKit; prisma: PrismaClient; clock?: () => number; logger?: KitLogger }) {
  const events = prismaSecurityEventLog(deps.prisma);
  if (!env.AUTH_SSF_ISSUER) return { handler: undefined, events, check() {}, startPolling: () => () => {} };
  const issuer = env.AUTH_SSF_ISSUER;
  const handler: SharedSignalsHandler = sharedSignals(() => ({
    kit: deps.kit,
    issuer,
    audience: audienceOf(env),
    replay: prismaReplayStore(deps.prisma),
    events,
    algorithms: env.AUTH_SSF_ALGS,
    ...(env.AUTH_SSF_PUSH_TOKEN ? { pushToken: env.AUTH_SSF_PUSH_TOKEN } : {}),
    // The transmitter speaks for the app's OIDC provider: only its users and sessions.
    subjectIssuers: env.AUTH_OIDC_ISSUER ? [env.AUTH_OIDC_ISSUER] : [issuer],
    // Only an address the app knows to be verified (seeded, or marked at a sign-in whose provider verified it).
    resolveEmail: async (email) => {
      const user = await deps.prisma.user.findUnique({ where: { email }, select: { id: true, emailVerified: true } });
      return user?.emailVerified ? [user.id] : [];
    },
    hook: (event) => `device ${String(event.payload.current_status)} (was ${String(event.payload.previous_status)})`,
    stepUpAcr: ["mfa"],
    clock: deps.clock,
    logger: deps.logger,
  }));
  return {
    handler,
    events,
    check(): void {
      if (!audienceOf(env)) throw new Error("configuration: AUTH_SSF_AUDIENCE must be set when AUTH_SSF_ISSUER is and AUTH_URL is not (see docs/reference-app.md, Configuration)");
      try {
        handler.check();
      } catch (err) {
        const variable = err instanceof ClaimsKitError && err.option ? SSF_ENV[err.option] : undefined;
        if (!variable) throw err;
        throw new Error(`configuration: ${variable} is invalid: ${(err as Error).message} (see docs/reference-app.md, Configuration)`, { cause: err });
      }
    },
    /** Poll the transmitter (RFC 8936) on an interval; returns the stop. */
    startPolling(): () => void {
      const endpoint = env.AUTH_SSF_POLL_URL;
      if (!endpoint) return () => {};
      let running = false;
      const round = async () => {
        if (running) return;
        running = true;
        try {
          await handler.poll({ endpoint, ...(env.AUTH_SSF_POLL_TOKEN ? { authorization: `Bearer ${env.AUTH_SSF_POLL_TOKEN}` } : {}) });
        } catch (err) {
          (deps.logger ?? console).warn(`[ssf] poll_failed: ${err instanceof Error ? err.message : String(err)}`);
        } finally {
          running = false;
        }
      };
      const timer = setInterval(() => void round(), env.AUTH_SSF_POLL_INTERVAL * 1000);
      timer.unref?.();
      void round();
      return () => clearInterval(timer);
    },
  };
}
