// The control-plane fixture itself: clear failures, and never a process left behind.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ControlPlane, ControlPlaneStartError } from '../control-plane/control-plane';
import { isRunning } from '../control-plane/processes';
import { eventually } from '../fixtures/cluster';
import { workDir } from './agent/harness';

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

/** PIDs of live processes whose command line mentions `dir` (every process a control plane starts does). */
function processesUsing(dir: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('ControlPlane.start', () => {
  it('fails naming the port when the apiserver port is taken, starting nothing', async () => {
    const { server, port } = await listen();
    const dir = workDir('cp-busy');
    try {
      await expect(ControlPlane.start({ port, dir })).rejects.toThrow(
        new ControlPlaneStartError(`kube-apiserver cannot start: port ${port} on 127.0.0.1 is already in use`),
      );
    } finally {
      server.close();
    }
    expect(processesUsing(dir)).toEqual([]);
  });

  it('fails naming the log file when the apiserver never becomes ready, and stops what it started', async () => {
    let error: unknown;
    const dir = workDir('cp-slow');
    try {
      await ControlPlane.start({ readyTimeoutMs: 1, controllerManager: false, dir });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ControlPlaneStartError);
    expect((error as Error).message).toMatch(/kube-apiserver at https:\/\/127\.0\.0\.1:\d+ never became ready; read \/.*kube-apiserver-0\.log/);
    expect(processesUsing(dir)).toEqual([]);
  });

  it('stops exactly the processes it started', async () => {
    const cp = await ControlPlane.start({ controllerManager: true });
    const procs = cp.state.processes;
    expect(procs.map((p) => p.name)).toEqual(['etcd', 'kube-apiserver-0', 'kube-controller-manager']);
    expect(procs.every(isRunning)).toBe(true);
    await cp.stop();
    rmSync(cp.state.dir, { recursive: true, force: true });
    expect(procs.filter(isRunning)).toEqual([]);
  });
});

describe('a test run that dies', () => {
  it('takes its control plane with it (parent-death signal), even on SIGKILL', async () => {
    // A separate Node process starts a control plane and prints its state file, then we kill it with SIGKILL,
    // as happens when jest is interrupted hard.
    const starter = join(__dirname, 'helpers', 'start-control-plane.js');
    const child = spawn(process.execPath, [starter], { stdio: ['ignore', 'pipe', 'inherit'] });
    const stateFile = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /STATE=(\S+)\n/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`starter exited early with ${code}`)));
    });
    const cp = ControlPlane.attach(stateFile);
    expect(cp.state.processes.every(isRunning)).toBe(true);
    child.kill('SIGKILL');
    await eventually('every control-plane process to exit', async () => (cp.state.processes.some(isRunning) ? undefined : true), 15_000);
    // Nobody was left to remove its directory: the killed starter would have.
    rmSync(cp.state.dir, { recursive: true, force: true });
  });
});
