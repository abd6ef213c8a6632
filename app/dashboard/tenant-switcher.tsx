"use client";
import { useRouter } from "next/navigation";
import { useId, useState, useTransition } from "react";
import type { AppKit } from "@/auth.config";
import { useClaims } from "@/lib/claims-kit/next/client";
import { answerOf, type Answer } from "@/app/ui/messages";
import { Result } from "@/app/ui/result";

/**
 * Switch the session's tenant with the `switchTenant` intent: the server checks the membership and
 * re-derives the tenant role and permissions. Pending and answer are shown next to the menu.
 */
export function TenantSwitcher({ tenants, current, testId = "tenant-switcher" }: { tenants: Array<{ id: string; name: string }>; current: string | undefined; testId?: string }) {
  const { run } = useClaims<AppKit>();
  const router = useRouter();
  const id = useId();
  const [answer, setAnswer] = useState<Answer>(null);
  const [target, setTarget] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();
  if (tenants.length < 2) return null;
  const nameOf = (tenantId: string) => tenants.find((t) => t.id === tenantId)?.name ?? tenantId;
  return (
    <div className="row">
      <label htmlFor={id}>Switch tenant</label>
      <select
        id={id}
        data-testid={testId}
        value={current ?? ""}
        disabled={pending}
        onChange={(e) => {
          const tenantId = e.target.value;
          setTarget(tenantId);
          startTransition(async () => {
            const result = await run("switchTenant", { tenantId });
            const role = result.ok ? result.session.claims.tenantRole : undefined;
            setAnswer(answerOf(result, `Switched to ${nameOf(tenantId)}${role ? `: you are ${role} there` : ""}.`));
            router.refresh();
          });
        }}
      >
        {current === undefined && <option value="">No tenant</option>}
        {tenants.map((t) => (
          <option key={t.id} value={t.id}>{t.name}</option>
        ))}
      </select>
      <Result answer={answer} pending={pending} pendingText={`Switching to ${target ? nameOf(target) : "the tenant"}…`} testId={`${testId}-result`} />
    </div>
  );
}

/**
 * One button that switches to a given tenant, then reloads the page: used where the page itself
 * depends on the tenant (the 403 page, which must make way for the page the user wanted).
 */
export function SwitchTenantButton({ tenant, role }: { tenant: { id: string; name: string }; role: string }) {
  const { run } = useClaims<AppKit>();
  const [answer, setAnswer] = useState<Answer>(null);
  const [pending, startTransition] = useTransition();
  return (
    <div className="row">
      <button
        type="button"
        disabled={pending}
        onClick={() =>
          startTransition(async () => {
            const result = await run("switchTenant", { tenantId: tenant.id });
            setAnswer(answerOf(result, `Switched to ${tenant.name}; reloading…`));
            // A full reload: the 403 boundary of this very page must give way to the page itself.
            if (result.ok) window.location.reload();
          })
        }
      >
        {pending ? "Switching…" : `Switch to ${tenant.name}`}
      </button>
      <span className="muted">you are {role} there</span>
      <Result answer={answer} pending={pending} pendingText={`Switching to ${tenant.name}…`} testId="switch-tenant-result" />
    </div>
  );
}
