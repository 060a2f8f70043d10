import type { RouterOsClient } from '../routeros/routeros-client.service';
import { RouterOsError } from '../routeros/routeros.types';
import type { NasAccess } from '../nas.service';
import type { OpenSession } from './open-sessions';

type ApiTarget = NonNullable<NasAccess['routerOs']>;

/** What the fallback found on the router: the user's active sessions, and how many it removed. */
export interface RouterRemoval {
  active: number;
  removed: number;
}

/**
 * The fallback disconnect: `/ppp/active/print ?name=<username>`, then `/ppp/active/remove` of
 * the session with the row's Acct-Session-Id, else of every active session of the user. Throws
 * the adapter's error when the router cannot be read or refuses the remove.
 */
export async function removeOnRouter(
  routerOs: RouterOsClient,
  target: ApiTarget,
  s: OpenSession,
): Promise<RouterRemoval> {
  const active = await routerOs.listActive(target, s.username);
  const mine = active.filter((a) => matches(a.sessionId, s.acctSessionId));
  const remove = mine.length > 0 ? mine : active;
  let removed = 0;
  for (const a of remove) if (await removeIfThere(routerOs, target, a.id)) removed++;
  return { active: active.length, removed };
}

/**
 * `/ppp/active/remove`; false when the router no longer has the session (`!trap` "no such
 * item"): it ended between the print and the remove, e.g. removed by the fallback of another
 * open row of the same customer. The goal, the session gone, is met either way.
 */
async function removeIfThere(routerOs: RouterOsClient, target: ApiTarget, id: string) {
  try {
    await routerOs.removeActive(target, id);
    return true;
  } catch (err) {
    if (err instanceof RouterOsError && err.kind === 'trap' && /no such item/i.test(err.message)) {
      return false;
    }
    throw err;
  }
}

/** RouterOS shows session-id as "0x81C00016"; MikroTik's Acct-Session-Id is "81c00016". */
export function matches(routerSessionId: string | null, acctSessionId: string): boolean {
  if (!routerSessionId) return false;
  const norm = (v: string) => v.trim().toLowerCase().replace(/^0x/, '');
  return norm(routerSessionId) === norm(acctSessionId);
}
