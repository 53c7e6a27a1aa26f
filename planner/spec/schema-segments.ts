// Phase-2 segmentation in the spec: the segments with the addresses the router and the checks need, the flows allowed
// between them, and what must not reach Proxmox management. The planner compiles it into router instructions and PVE
// firewall rules (planner/segmentation.ts, planner/router.ts); guardrails segmentation.* check it.
import { z } from 'zod';

const phaseNumber = z.number().int().min(0).max(2);
const cidrLike = z.string().min(1);

/**
 * One network segment of phase 2. The addresses are what the owner enters in the router (the manual step) and what
 * the in-guest checks expect; guardrail `segmentation.addressing` checks that they fit together.
 */
export const segmentSchema = z.strictObject({
  name: z.enum(['lan', 'services', 'iot']),
  bridge: z.string(),
  cidr: cidrLike,
  /** Where the segment's guests send their traffic: the home router on the LAN (default: the LAN bridge's gateway), the router VM on SERVICES/IOT. */
  gateway: z.string().optional(),
  /** Router VM 150's own static address on this segment; on SERVICES/IOT it is the gateway (the default). */
  router: z.string().optional(),
  /** The addresses the router's DHCP server hands out on SERVICES/IOT (the home router serves the LAN's). */
  dhcp: z.strictObject({ from: z.string(), to: z.string() }).optional(),
});
export type SegmentSpec = z.infer<typeof segmentSchema>;

/** Phase-2 segmentation intent; the planner compiles it into firewall rules. */
export const segmentationSchema = z.strictObject({
  phase: phaseNumber.default(2),
  /** A name every segment's guests must resolve through their DNS (the in-guest check after a NIC move). */
  dnsCheckName: z.string().regex(/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i, 'must be a DNS name such as deb.debian.org').default('deb.debian.org'),
  defaultPolicy: z.enum(['deny', 'allow']),
  segments: z.array(segmentSchema),
  allow: z
    .array(
      z.strictObject({
        from: z.string(),
        to: z.string(),
        proto: z.enum(['tcp', 'udp']).default('tcp'),
        dport: z.union([z.string(), z.number().int()]).transform(String),
        comment: z.string().optional(),
      }),
    )
    .default([]),
  blockManagementFrom: z.array(z.enum(['services', 'iot'])).default([]),
});

