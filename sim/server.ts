// `startSim`: a simulated Proxmox VE 9 node `proxmox` over HTTPS on loopback, with a simulated tailnet and a TCP
// port standing for the node's SSH. Every request is checked against the official API schema before it is handled.
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publicKeyOf } from '../infra/ssh/public-key.ts';
import { generate } from 'selfsigned';
import { InputError } from '../lib/errors.ts';
import { Authenticator, type SimToken } from './auth.ts';
import { checkRequest, runRoute } from './dispatch.ts';
import { createFaultInjector, parseFaults } from './faults.ts';
import { HANDLER_CHECKS } from './permission-checks.ts';
import { checkValues } from './permissions.ts';
import { parseBody, parseQuery, PveHttpError, readBody, str, type Params } from './http.ts';
import { SimLab } from './lab.ts';
import { networkChanges } from './routes/network.ts';
import { seededRandom } from './random.ts';
import { DEFAULT_TASK_SECONDS } from './sim-time.ts';
import { redactParams, RequestLog, type SimRequestRecord } from './request-log.ts';
import type { ScenarioName } from './scenario-names.ts';
import { buildScenario } from './scenarios.ts';
import { startTailnetServer, TailnetState } from './tailnet.ts';
import { startGuestSsh } from './guest/guest-ssh.ts';
import { startSimHostSsh } from './guest/host-ssh.ts';
import { createSimShellRunner } from './guest/runner.ts';

export type { SimRequestRecord } from './request-log.ts';
export type { SimLab } from './lab.ts';
export type { ScenarioName } from './scenario-names.ts';

export interface SimOptions {
  scenario?: ScenarioName;
  largeCount?: number;
  latencyMs?: number;
  taskSeconds?: number;
  faults?: string[];
  seed?: number;
  requestLogFile?: string;
  tokens?: SimToken[];
  host?: string;
  port?: number;
}

export interface RunningSim {
  url: string;
  fingerprint: string;
  caPem: string;
  node: 'proxmox';
  tokenId: string;
  tokenSecret: string;
  tailscaleUrl: string;
  tailscaleApiKey: string;
  /** The node's SSH server (port 22 of the sim): a host shell that runs commands in the node's sandbox. */
  mgmtSshPort: number;
  /** Its host key, `SHA256:…` as ssh-keygen prints it, for pinning. */
  mgmtSshFingerprint: string;
  /** A private key root may log in with (generated at start, in a temp dir removed on close). */
  mgmtSshKeyPath: string;
  /** Loopback port forwarded to port 22 of VM 100 (edge-gateway, Jarvis's own VM): its LAN is not routable from here. */
  gatewaySshPort: number;
  requests: SimRequestRecord[];
  schemaViolations: SimRequestRecord[];
  lab: SimLab;
  /**
   * The simulated node's site file (LAN, disks…), what plans against it read instead of specs/site.yaml: sim/site.yaml
   * with the public half of mgmtSshKeyPath among the VMs' SSH keys, as an owner puts their own (in a temp dir).
   */
  siteFile: string;
  close(): Promise<void>;
}

/** The VM whose port 22 the simulator forwards to loopback: edge-gateway, where Jarvis runs (JARVIS_SELF_VMID's default). */
const GATEWAY_VMID = 100;

/** The site's `sshKeys` list with one more key (the simulated owner's). */
function siteWithKey(site: string, publicKey: string): string {
  return site.replace(/^sshKeys:\n/m, `sshKeys:\n  - ${publicKey} sim-owner\n`);
}

export const SIM_SITE_FILE = fileURLToPath(new URL('./site.yaml', import.meta.url));

const API_PREFIX = '/api2/json';

async function makeCertificate(host: string): Promise<{ key: string; cert: string; fingerprint: string }> {
  // PVE uses RSA 2048; an EC key is generated ~30x faster and clients pin by fingerprint either way.
  const pems = await generate([{ name: 'commonName', value: 'proxmox.lan' }], {
    keyType: 'ec',
    curve: 'P-256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'proxmox' }, { type: 2, value: 'proxmox.lan' }, { type: 7, ip: host }] },
    ],
  });
  return { key: pems.private, cert: pems.cert, fingerprint: new X509Certificate(pems.cert).fingerprint256 };
}

/** Status line text must be one latin-1 line. */
const reason = (message: string): string => message.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim().slice(0, 200);

function sendJson(res: ServerResponse, status: number, message: string, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, reason(message), { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A long-running `jarvis sim` must not grow without bound: keep the most recent records. */
const MAX_RECORDS = 20_000;
function remember(list: SimRequestRecord[], record: SimRequestRecord): void {
  list.push(record);
  if (list.length > MAX_RECORDS) list.splice(0, list.length - MAX_RECORDS);
}

function listen(server: TcpServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startSim(opts: SimOptions = {}): Promise<RunningSim> {
  const host = opts.host ?? '127.0.0.1';
  const random = seededRandom(opts.seed ?? 1);
  const faults = parseFaults(opts.faults ?? []);
  // Keyed by request, apart from the lab's stream, so injected faults do not shift the lab's MACs and ids.
  const faultInjector = createFaultInjector(faults, opts.seed ?? 1);
  const taskSeconds = opts.taskSeconds ?? DEFAULT_TASK_SECONDS;
  const lab = new SimLab(random, () => taskSeconds, { failing: faults.failingTaskTypes, slow: faults.slowTaskTypes });
  lab.netState.faults = faults.network;
  // The README's setup: a privilege-separated token of jarvis@pve holding the JarvisOps role on /.
  const tokens: SimToken[] = opts.tokens?.length ? opts.tokens : [{ tokenId: 'jarvis@pve!chatops', secret: randomUUID(), privileges: 'admin' }];
  for (const token of tokens) {
    if (!/^[^\s@!=]+@[A-Za-z][\w.-]*![A-Za-z][\w.-]*$/.test(token.tokenId) || !/^\S+$/.test(token.secret)) {
      throw new InputError(`simulator token "${token.tokenId}": expected USER@REALM!TOKENID and a secret without spaces`);
    }
  }
  lab.passwords.set('root@pam', randomBytes(12).toString('base64url'));
  lab.tailnet = new TailnetState(`tskey-api-sim${randomBytes(6).toString('hex')}-${randomBytes(16).toString('hex')}`);
  const tls = await makeCertificate(host);
  lab.sslFingerprint = tls.fingerprint;
  // Guests (agent exec, boots) and the node (SSH) run commands for real in per-machine sandboxes with recording
  // stand-ins; the scenario's guests boot through them too.
  const shellRunner = createSimShellRunner(lab);
  await buildScenario(lab, opts.scenario ?? 'fresh', { largeCount: opts.largeCount ?? 1000 });

  const auth = new Authenticator(tokens, lab.passwords);
  const requestLog = new RequestLog(opts.requestLogFile);
  const requests: SimRequestRecord[] = [];
  const schemaViolations: SimRequestRecord[] = [];
  const sockets = new Set<Socket>();
  const latencyMs = opts.latencyMs ?? 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const path = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) || '/' : url.pathname;
    let params: Params = {};
    const record: SimRequestRecord = { time: new Date().toISOString(), method, path, params: {}, status: 200 };
    const finish = (status: number, message: string, body: unknown): void => {
      record.status = status;
      remember(requests, record);
      requestLog.write(record);
      sendJson(res, status, message, body);
    };
    try {
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      if (!url.pathname.startsWith(API_PREFIX)) throw new PveHttpError(501, `Method '${method} ${url.pathname}' not implemented`);
      const body = method === 'POST' || method === 'PUT' ? await readBody(req) : '';
      params = { ...parseQuery(url.search), ...parseBody(body, req.headers['content-type']) };
      record.params = redactParams(params);
      const isLogin = method === 'POST' && path === '/access/ticket';
      const caller = isLogin ? undefined : auth.authenticate(req, method);
      let checked;
      try {
        checked = checkRequest(method, path, params);
      } catch (error) {
        if (error instanceof PveHttpError) {
          if (error.errors) record.errors = error.errors;
          remember(schemaViolations, record);
        }
        throw error;
      }
      record.template = checked.template;
      const fault = faultInjector.decide(method, path);
      if (fault.kind === 'timeout') {
        record.status = 0;
        remember(requests, record);
        return; // never answered; close() tears the socket down
      }
      if (fault.kind === 'status') throw new PveHttpError(fault.status, fault.message);
      if (isLogin) {
        const realm = str(params, 'realm');
        const data = auth.login(str(params, 'username') ?? '', str(params, 'password') ?? '', realm);
        return finish(200, 'OK', { data });
      }
      // What the method declares, then what its handler checks inside (sim/permissions.ts).
      const permissions = caller!.permissions;
      permissions.checkMethod(method, checked.template, checkValues(checked.path, params));
      HANDLER_CHECKS[`${method} ${checked.template}`]?.(permissions, lab, checked.path, params);
      if (checked.template === '/access/permissions') {
        return finish(200, 'OK', { data: permissions.listAt(str(params, 'path') ?? '/') });
      }
      const data = await runRoute(lab, method, checked, params, caller!.authid);
      const envelope: Record<string, unknown> = { data: data ?? null };
      // PVE adds the staged /etc/network/interfaces diff beside the data of the network list, when there is one.
      const changes = method === 'GET' && checked.template === '/nodes/{node}/network' && lab.pendingNetwork ? networkChanges(lab) : '';
      if (changes) envelope.changes = changes;
      finish(200, 'OK', envelope);
    } catch (error) {
      if (error instanceof PveHttpError) {
        // pveproxy's JSON formatter: the message travels in the status line only; the body is {data:null[,errors]}.
        const body: Record<string, unknown> = { data: null };
        if (error.errors) body.errors = error.errors;
        return finish(error.status, error.message, body);
      }
      finish(500, error instanceof Error ? error.message : String(error), { data: null });
    }
  }

  const https = createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => void handle(req, res));
  https.keepAliveTimeout = 60_000;
  // pve-firewall keeps ESTABLISHED connections; only new ones are judged against the current rules.
  https.on('connection', (socket: Socket) => {
    if (!lab.firewallAdmits(8006)) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const apiPort = await listen(https, host, opts.port ?? 0);

  const hostSsh = await startSimHostSsh({ runner: shellRunner, host, admits: () => lab.firewallAdmits(22) });
  const gatewaySsh = await startGuestSsh({ lab, runner: shellRunner, vmid: GATEWAY_VMID, host });
  const siteDir = mkdtempSync(join(tmpdir(), 'jarvis-sim-site-'));
  const siteFile = join(siteDir, 'site.yaml');
  writeFileSync(siteFile, siteWithKey(readFileSync(SIM_SITE_FILE, 'utf8'), publicKeyOf(hostSsh.clientKeyPath)));
  // pve-firewall.service: applies configuration changes on its update cycle from now on.
  lab.firewall.start();
  const tailnet = await startTailnetServer(lab.tailnet, host);

  let closed = false;
  return {
    url: `https://${host}:${apiPort}`,
    fingerprint: tls.fingerprint,
    caPem: tls.cert,
    node: 'proxmox',
    tokenId: tokens[0]!.tokenId,
    tokenSecret: tokens[0]!.secret,
    tailscaleUrl: tailnet.url,
    tailscaleApiKey: lab.tailnet.apiKey,
    mgmtSshPort: hostSsh.port,
    mgmtSshFingerprint: hostSsh.fingerprint,
    mgmtSshKeyPath: hostSsh.clientKeyPath,
    gatewaySshPort: gatewaySsh.port,
    requests,
    schemaViolations,
    lab,
    siteFile,
    async close() {
      if (closed) return;
      closed = true;
      lab.tasks.stop();
      lab.boots.stop();
      lab.firewall.stop();
      for (const socket of sockets) socket.destroy();
      https.closeAllConnections();
      tailnet.server.closeAllConnections();
      await Promise.all([
        shellRunner.close(),
        new Promise<void>((resolve) => https.close(() => resolve())),
        hostSsh.close(),
        gatewaySsh.close(),
        rm(siteDir, { recursive: true, force: true }),
        new Promise<void>((resolve) => tailnet.server.close(() => resolve())),
      ]);
    },
  };
}
