// The variables by which a jarvis process started in a test reaches a running simulator, as it would a real node.
import type { RunningSim } from '../../sim/server.ts';

/** The node's API (token, pinned certificate) and its shell over SSH (pinned host key, the simulator's key). */
export const simNodeEnv = (sim: RunningSim): NodeJS.ProcessEnv => ({
  PROXMOX_URL: sim.url,
  PROXMOX_FINGERPRINT: sim.fingerprint,
  PROXMOX_TOKEN_ID: sim.tokenId,
  PROXMOX_TOKEN_SECRET: sim.tokenSecret,
  SSH_HOSTS: `proxmox=127.0.0.1:${sim.mgmtSshPort}`,
  SSH_HOST_PINS: `proxmox=${sim.mgmtSshFingerprint}`,
  SSH_KEY_PATH: sim.mgmtSshKeyPath,
});
