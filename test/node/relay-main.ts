/**
 * A byte relay between the host and the cluster's namespaces, one direction of a pair:
 *
 *   node relay-main.js tcp-to-unix <host:port> <socket>    (runs on the host: 127.0.0.1:P -> socket)
 *   node relay-main.js unix-to-tcp <socket> <host:port>    (runs in a cluster namespace: socket -> address)
 *
 * A Unix socket is a file, not bound to a network namespace, so a pair joins the host's loopback to an address only
 * reachable inside the cluster (the apiserver, a Service's ClusterIP through kube-proxy, a Pod). Each connection is
 * relayed as is: when one side closes or breaks, the other is closed the same way, so a client sees what it would
 * see talking to the address directly (a connection to a stopped primary breaks; one to a frozen one hangs).
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { rmSync } from 'node:fs';

function hostPort(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  return { host: text.slice(0, i), port: Number(text.slice(i + 1)) };
}

function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const close = (err?: Error) => {
    if (err) {
      a.destroy();
      b.destroy();
    }
  };
  a.on('error', close);
  b.on('error', close);
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
}

function main(argv: readonly string[]): void {
  const [mode, from, to] = argv;
  if (!from || !to || (mode !== 'tcp-to-unix' && mode !== 'unix-to-tcp')) {
    process.stderr.write('usage: relay-main tcp-to-unix <host:port> <socket> | unix-to-tcp <socket> <host:port>\n');
    process.exit(2);
  }
  const server = createServer({ pauseOnConnect: true }, (client) => {
    const upstream = mode === 'tcp-to-unix' ? createConnection({ path: to }) : createConnection(hostPort(to));
    upstream.setNoDelay(true);
    client.setNoDelay?.(true);
    pipeBoth(client, upstream);
    client.resume();
  });
  server.on('error', (err) => {
    process.stderr.write(`relay: ${err.message}\n`);
    process.exit(1);
  });
  if (mode === 'tcp-to-unix') {
    const { host, port } = hostPort(from);
    server.listen(port, host, () => process.stdout.write(`relay listening on ${from}\n`));
  } else {
    rmSync(from, { force: true });
    server.listen(from, () => process.stdout.write(`relay listening on ${from}\n`));
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
}

main(process.argv.slice(2));
