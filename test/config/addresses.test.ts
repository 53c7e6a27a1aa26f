// Addresses from the configuration: the Tailscale API over https only (plain http only for a loopback test server),
// and which hosts are loopback.
import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../lib/addresses.ts';
import { loadConfig } from '../../lib/config.ts';

describe('TAILSCALE_API_URL', () => {
  it('must be https, naming the variable; plain http only for a test server on loopback', () => {
    for (const url of ['http://api.tailscale.com', 'http://192.168.1.10:8080', 'http://localhost.example.com', 'ftp://api.tailscale.com']) {
      expect(() => loadConfig({ TAILSCALE_API_URL: url }), url).toThrow(/TAILSCALE_API_URL: must start with https:\/\//);
    }
    expect(loadConfig({ TAILSCALE_API_URL: 'https://api.tailscale.com' }).tailscale.apiUrl).toBe('https://api.tailscale.com');
    for (const url of ['http://127.0.0.1:41641', 'http://localhost:41641', 'http://[::1]:41641']) expect(loadConfig({ TAILSCALE_API_URL: url }).tailscale.apiUrl).toBe(url);
  });
});

describe('isLoopbackHost', () => {
  it('knows loopback in any spelling, and nothing else', () => {
    for (const host of ['127.0.0.1', '127.1', '127.255.0.9', '::1', '[::1]', '0:0:0:0:0:0:0:1', 'localhost', 'LOCALHOST']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['128.0.0.1', '0.0.0.0', '::', 'localhost.example.com', '192.168.1.10', 'api.tailscale.com']) expect(isLoopbackHost(host), host).toBe(false);
  });
});
