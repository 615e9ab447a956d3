// Polling for a condition that another task (a server, a job runner, a file watcher) brings about.

/**
 * Calls `probe` every 50 ms until it gives something other than `undefined` or `false`, and returns
 * that; throws naming `what` after `ms`. A boolean probe gives `true` once the condition holds.
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
