import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort, portInUse } from '../../control-plane/free-port';

it('hands out distinct ports below the ephemeral range, which the kernel never gives to outgoing connections', async () => {
  const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
  expect(new Set(ports).size).toBe(50);
  for (const p of ports) expect(p).toBeLessThan(ephemeralLow);
  for (const p of ports) expect(p).toBeGreaterThanOrEqual(10000);
});

it('tells a bound port from a free one', async () => {
  const port = await freePort();
  expect(await portInUse('127.0.0.1', port)).toBe(false);
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
  try {
    expect(await portInUse('127.0.0.1', port)).toBe(true);
  } finally {
    await new Promise<void>((r) => srv.close(() => r()));
  }
});
