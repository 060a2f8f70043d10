import type { SessionEventBus } from '../../src/sessions/events/session-event-bus.service';
import type { SessionEventFilter } from '../../src/sessions/events/session-event-bus.service';

/**
 * Holds the setup of new session-event subscriptions (after auth and validation, before the
 * bus has them) until `release()`: the window a slow NAS lookup or a busy event loop opens.
 * `only` picks the subscriptions held (all by default); `holding` counts those waiting.
 */
export function holdSubscriptionSetup(
  bus: SessionEventBus,
  only: (filter: SessionEventFilter) => boolean = () => true,
): { readonly holding: number; release(): void; restore(): void } {
  const prepare = bus.prepare.bind(bus);
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let holding = 0;
  const spy = jest.spyOn(bus, 'prepare').mockImplementation(async (filter) => {
    if (only(filter)) {
      holding++;
      await held;
    }
    return prepare(filter);
  });
  return {
    get holding() {
      return holding;
    },
    release: () => release(),
    restore: () => {
      release();
      spy.mockRestore();
    },
  };
}
