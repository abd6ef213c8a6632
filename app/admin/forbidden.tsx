import { ForbiddenNotice } from "@/app/ui/forbidden-notice";
import { ADMIN_PERMISSION } from "./required";

export const metadata = { title: "Not allowed" };

/** The admin page's 403: it names the permission the page checks. */
export default function AdminForbidden() {
  return <ForbiddenNotice permission={ADMIN_PERMISSION} what="The admin page" />;
}
