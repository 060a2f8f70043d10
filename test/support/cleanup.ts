/**
 * Runs every teardown step, even when an earlier one fails, so nothing is left behind; then
 * throws the first failure.
 */
export async function runAll(steps: ReadonlyArray<() => unknown>): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0];
}
