/**
 * A real OpenIPMI `ipmi_sim` BMC on 127.0.0.1 for the ipmitool tests: a fresh temp dir with
 * lan.conf, sim.emu and a chassis_control shell script keeping the power state in a file
 * (`power.state`, `1` or `0`) and logging every call (`calls.log`). The UDP port is random and
 * checked free in /proc/net/udp (two ipmi_sim instances can bind one port without error).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The users the sim knows. */
export const SIM_USERS = {
  admin: { username: 'admin', password: 'secret-pw-4711' },
  viewer: { username: 'viewer', password: 'viewer-pw' },
} as const;

export interface IpmiSim {
  readonly port: number;
  readonly dir: string;
  /** The power state the chassis script holds. */
  power(): Promise<'on' | 'off'>;
  setPower(state: 'on' | 'off'): Promise<void>;
  /** The chassis_control calls so far, e.g. `['get power', 'set power 0']`. */
  calls(): Promise<string[]>;
  stop(): Promise<void>;
}

/** UDP ports bound on this machine, from /proc/net/udp and /proc/net/udp6. */
export async function boundUdpPorts(): Promise<Set<number>> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      const hex = local?.split(':').pop();
      if (hex !== undefined && hex !== '') ports.add(Number.parseInt(hex, 16));
    }
  }
  return ports;
}

/** A random UDP port nothing is bound to. */
export async function freeUdpPort(): Promise<number> {
  const bound = await boundUdpPorts();
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    if (!bound.has(port)) return port;
  }
}

const CHASSIS_SCRIPT = `#!/bin/sh
# ipmi_sim chassis_control: "$0 0x20 get power" prints power:N; "$0 0x20 set power|reset|shutdown V".
dir=$(dirname "$0")
shift
echo "$*" >> "$dir/calls.log"
case "$1" in
  get)
    shift
    for item in "$@"; do
      [ "$item" = power ] && echo "power:$(cat "$dir/power.state")"
    done ;;
  set)
    shift
    while [ $# -ge 2 ]; do
      case "$1" in
        power) echo "$2" > "$dir/power.state" ;;
        shutdown) echo 0 > "$dir/power.state" ;;
        reset) : ;;
      esac
      shift 2
    done ;;
esac
exit 0
`;

/** Starts ipmi_sim; `chassisControl: false` leaves out the chassis_control line (only status works). */
export async function startIpmiSim(options: { initialPower?: 'on' | 'off'; chassisControl?: boolean } = {}): Promise<IpmiSim> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-ipmi-sim-'));
  const state = join(dir, 'state');
  await mkdir(state);
  const port = await freeUdpPort();
  const chassis = join(dir, 'chassis-control.sh');
  await writeFile(chassis, CHASSIS_SCRIPT);
  await chmod(chassis, 0o755);
  await writeFile(join(dir, 'power.state'), options.initialPower === 'off' ? '0\n' : '1\n');
  await writeFile(join(dir, 'calls.log'), '');
  const lanConf = [
    'name "durable-write-test"',
    'set_working_mc 0x20',
    '  startlan 1',
    `    addr 127.0.0.1 ${port}`,
    '    priv_limit admin',
    '    allowed_auths_callback none md2 md5 straight',
    '    allowed_auths_user none md2 md5 straight',
    '    allowed_auths_operator none md2 md5 straight',
    '    allowed_auths_admin none md2 md5 straight',
    '    guid a123456789abcdefa123456789abcdef',
    '  endlan',
    ...(options.chassisControl === false ? [] : [`  chassis_control "${chassis} 0x20"`]),
    `  user 2 true "${SIM_USERS.admin.username}" "${SIM_USERS.admin.password}" admin 10 none md2 md5 straight`,
    `  user 3 true "${SIM_USERS.viewer.username}" "${SIM_USERS.viewer.password}" user 10 none md2 md5 straight`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'lan.conf'), lanConf);
  await writeFile(
    join(dir, 'sim.emu'),
    'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\nmc_enable 0x20\n',
  );

  const child: ChildProcess = spawn('ipmi_sim', ['-c', 'lan.conf', '-f', 'sim.emu', '-s', state, '-n'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  // Never leave a simulator behind, even when the test process ends without calling stop().
  const killOnExit = (): void => {
    if (!dead) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  void exited.then(() => {
    dead = true;
    process.removeListener('exit', killOnExit);
  });

  const stop = async (): Promise<void> => {
    if (!dead) {
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };

  // Ready once the port shows up bound.
  const deadline = Date.now() + 5000;
  while (!(await boundUdpPorts()).has(port)) {
    if (dead || Date.now() > deadline) {
      await stop();
      throw new Error(`ipmi_sim did not bind 127.0.0.1:${port}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }

  return {
    port,
    dir,
    power: async () => ((await readFile(join(dir, 'power.state'), 'utf8')).trim() === '1' ? 'on' : 'off'),
    setPower: (s) => writeFile(join(dir, 'power.state'), s === 'on' ? '1\n' : '0\n'),
    calls: async () => (await readFile(join(dir, 'calls.log'), 'utf8')).split('\n').filter((l) => l !== ''),
    stop,
  };
}
