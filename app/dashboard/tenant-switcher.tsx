"use client";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import type { AppKit } from "@/auth.config";
import { useClaims } from "@/lib/claims-kit/next/client";

export function TenantSwitcher({ tenants, current }: { tenants: Array<{ id: string; name: string }>; current: string | undefined }) {
  const { run } = useClaims<AppKit>();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();
  if (tenants.length < 2) return null;
  return (
    <label className="row">
      Switch tenant:
      <select
        data-testid="tenant-switcher"
        value={current ?? ""}
        disabled={pending}
        onChange={(e) => {
          const tenantId = e.target.value;
          startTransition(async () => {
            const result = await run("switchTenant", { tenantId });
            setError(result.ok ? null : result.code);
            router.refresh();
          });
        }}
      >
        {tenants.map((t) => (
          <option key={t.id} value={t.id}>{t.name}</option>
        ))}
      </select>
      {error && <span className="error" data-testid="switch-error">{error}</span>}
    </label>
  );
}
