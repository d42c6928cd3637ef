// Starts a control plane the way jest's global setup does (parent-death signal on), prints its state file, and
// waits to be killed. Used by fixture.test.ts to prove that killing the test runner leaves no process behind.
const { ControlPlane } = require('../../../build/test/control-plane/control-plane');

ControlPlane.start({ controllerManager: false }).then(
  (cp) => {
    process.stdout.write(`STATE=${cp.state.dir}/state.json\n`);
    setInterval(() => {}, 1 << 30);
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
