// SSH key pairs for the simulated machines (host keys, the node's client key), made with ssh2 like the servers that
// use them.
import { createRequire } from 'node:module';

const ssh2 = createRequire(import.meta.url)('ssh2') as {
  utils: { parseKey(key: string): object | Error; generateKeyPairSync(type: 'ed25519'): { private: string; public: string } };
};

/** ssh2 now and then writes an ed25519 private key its own parser rejects (about 1 in 600 keys): draw another. */
export function generateEd25519(): { private: string; public: string } {
  for (let attempt = 1; ; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error)) return pair;
    if (attempt === 10) throw new Error('ssh2 generated 10 unparsable ed25519 keys in a row');
  }
}
