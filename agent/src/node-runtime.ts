/**
 * Runtime facts the agent's dependencies probe for, set before any of them loads. Import this first in main.ts.
 *
 * `pg` decides at load time whether it runs in a Cloudflare Worker. Where `navigator` is missing (Node 20; Node 21
 * and later define it) it constructs a `Response` to find out, which loads Node's bundled HTTP client and costs
 * about 14 MB of resident memory for the agent's whole life. Defining `navigator` the way newer Node does answers
 * the probe without that.
 */
const g = globalThis as { navigator?: { userAgent?: string } };
if (g.navigator === undefined) {
  Object.defineProperty(globalThis, 'navigator', {
    value: Object.freeze({ userAgent: `Node.js/${process.versions.node.split('.')[0]}` }),
    configurable: true,
    enumerable: false,
    writable: false,
  });
}

export {};
