import { describe, expect, it } from 'vitest';
import { reachesManagement, type ReachFirewall, type ReachRule } from '../../planner/spec/firewall-reach.ts';

const rule = (r: Partial<ReachRule>): ReachRule => ({ type: 'in', action: 'ACCEPT', enable: true, ...r });
const fw = (rules: ReachRule[], extra: Partial<ReachFirewall> = {}): ReachFirewall => ({ enable: true, policy_in: 'DROP', rules, ...extra });
const LAN = '192.168.1.0/24';

describe('reachesManagement', () => {
  it('a disabled firewall or an ACCEPT policy lets management through', () => {
    expect(reachesManagement({ enable: false, policy_in: 'DROP', rules: [] }, LAN, 22)).toBe(true);
    expect(reachesManagement(fw([], { policy_in: 'ACCEPT' }), LAN, 8006)).toBe(true);
  });
  it('DROP with no rules locks out', () => {
    expect(reachesManagement(fw([]), LAN, 22)).toBe(false);
  });
  it('an ACCEPT for the CIDR and port reaches; other ports do not', () => {
    const f = fw([rule({ source: LAN, proto: 'tcp', dport: '22,8006' })]);
    expect(reachesManagement(f, LAN, 22)).toBe(true);
    expect(reachesManagement(f, LAN, 8006)).toBe(true);
    expect(reachesManagement(f, LAN, 443)).toBe(false);
    expect(reachesManagement(f, '10.0.0.0/8', 22)).toBe(false);
  });
  it('a source must cover the WHOLE management CIDR (a union of entries counts)', () => {
    expect(reachesManagement(fw([rule({ source: '192.168.1.0/25', proto: 'tcp', dport: '22' })]), LAN, 22)).toBe(false);
    expect(reachesManagement(fw([rule({ source: '192.168.1.0/25,192.168.1.128/25', proto: 'tcp', dport: '22' })]), LAN, 22)).toBe(true);
    expect(reachesManagement(fw([rule({ source: '192.168.1.0-192.168.1.255', proto: 'tcp', dport: '22' })]), LAN, 22)).toBe(true);
  });
  it('first match wins: a DROP before the ACCEPT ends the walk, even for part of the CIDR', () => {
    const accept = rule({ source: LAN, proto: 'tcp', dport: '22' });
    expect(reachesManagement(fw([rule({ action: 'DROP', source: '192.168.1.50' }), accept]), LAN, 22)).toBe(false);
    expect(reachesManagement(fw([rule({ action: 'REJECT', proto: 'tcp', dport: '22' }), accept]), LAN, 22)).toBe(false);
    expect(reachesManagement(fw([accept, rule({ action: 'DROP' })]), LAN, 22)).toBe(true);
    expect(reachesManagement(fw([rule({ action: 'DROP', proto: 'udp' }), accept]), LAN, 22)).toBe(true);
  });
  it('skips disabled rules and out rules', () => {
    expect(reachesManagement(fw([rule({ source: LAN, enable: false })]), LAN, 22)).toBe(false);
    expect(reachesManagement(fw([rule({ source: LAN, enable: 0 })]), LAN, 22)).toBe(false);
    expect(reachesManagement(fw([rule({ type: 'out', source: LAN })]), LAN, 22)).toBe(false);
    expect(reachesManagement(fw([rule({ action: 'DROP', enable: false }), rule({ source: LAN })]), LAN, 22)).toBe(true);
  });
  it('expands the SSH macro to tcp/22', () => {
    const f = fw([rule({ macro: 'SSH', source: LAN })]);
    expect(reachesManagement(f, LAN, 22)).toBe(true);
    expect(reachesManagement(f, LAN, 8006)).toBe(false);
    expect(reachesManagement(fw([rule({ macro: 'Unknown', source: LAN })]), LAN, 22)).toBe(false);
  });
  it('resolves ipsets (with scope and nomatch entries) and aliases', () => {
    const ipsets = { 'mgmt-admins': [LAN], partial: [LAN, '!192.168.1.7'], named: ['admin-net'] };
    const aliases = { 'admin-net': LAN };
    expect(reachesManagement(fw([rule({ source: '+dc/mgmt-admins', proto: 'tcp', dport: '22' })], { ipsets }), LAN, 22)).toBe(true);
    expect(reachesManagement(fw([rule({ source: '+partial', proto: 'tcp', dport: '22' })], { ipsets }), LAN, 22)).toBe(false);
    expect(reachesManagement(fw([rule({ source: '+named', proto: 'tcp', dport: '22' })], { ipsets, aliases }), LAN, 22)).toBe(true);
    expect(reachesManagement(fw([rule({ source: 'admin-net', proto: 'tcp', dport: '22' })], { aliases }), LAN, 22)).toBe(true);
    expect(reachesManagement(fw([rule({ source: '+missing', proto: 'tcp', dport: '22' })]), LAN, 22)).toBe(false);
  });
  it('expands security groups in place', () => {
    const groups = { mgmt: [rule({ source: LAN, proto: 'tcp', dport: '22' })], deny: [rule({ action: 'DROP' })] };
    expect(reachesManagement(fw([rule({ type: 'group', action: 'mgmt' })], { groups }), LAN, 22)).toBe(true);
    expect(reachesManagement(fw([rule({ type: 'group', action: 'deny' }), rule({ source: LAN })], { groups }), LAN, 22)).toBe(false);
  });
  it('treats dest, sport and iface restrictions on an ACCEPT as uncertain', () => {
    expect(reachesManagement(fw([rule({ source: LAN, dest: '192.168.1.10' })]), LAN, 22)).toBe(false);
    expect(reachesManagement(fw([rule({ source: LAN, iface: 'vmbr0' })]), LAN, 22)).toBe(false);
    expect(reachesManagement(fw([rule({ source: LAN, sport: '1024:65535' })]), LAN, 22)).toBe(false);
  });
  it('decides dest restrictions when the node address is given', () => {
    const aliases = { 'proxmox-host': '192.168.1.10' };
    const f = fw([rule({ source: LAN, dest: 'proxmox-host', proto: 'tcp', dport: '22' })], { aliases });
    expect(reachesManagement(f, LAN, 22, '192.168.1.10')).toBe(true);
    expect(reachesManagement(f, LAN, 22, '192.168.1.11')).toBe(false);
    const dropOther = fw([rule({ action: 'DROP', dest: '10.0.0.0/8' }), rule({ source: LAN })]);
    expect(reachesManagement(dropOther, LAN, 22, '192.168.1.10')).toBe(true);
    expect(reachesManagement(dropOther, LAN, 22)).toBe(false);
  });
  it('never matches across address families and refuses an unparseable source', () => {
    expect(reachesManagement(fw([rule({ source: '::/0' })]), LAN, 22)).toBe(false);
    expect(reachesManagement(fw([rule({})], { policy_in: 'DROP' }), 'bogus', 22)).toBe(false);
  });
});
