/**
 * Loading pg from a command line without its Cloudflare probe.
 *
 * pg checks at load time whether it runs in a Cloudflare Worker: by navigator.userAgent, or, where
 * there is no navigator (Node 20; Node 21 and later have one), by constructing a fetch Response,
 * which loads Node's whole bundled fetch implementation (undici, about 20 ms of start-up) for
 * nothing. A navigator like Node 21's answers the question; it exists only while pg loads.
 */

type WithNavigator = { navigator?: { userAgent: string } };

/**
 * Runs `load` (the caller's own `() => import("pg")`, so that pg resolves from the caller's
 * package) with a Node-like navigator in place when there is none. Later imports of pg reuse the
 * module it loaded.
 */
export async function importPg<T>(load: () => Promise<T>): Promise<T> {
  const scope = globalThis as WithNavigator;
  const stub = scope.navigator === undefined;
  if (stub) scope.navigator = { userAgent: `Node.js/${process.versions.node.split(".")[0]}` };
  try {
    return await load();
  } finally {
    if (stub) delete scope.navigator;
  }
}
