// SecretSource over the process environment: NAME, or the file named by NAME_FILE (lib/config.ts readSecret).
import { InputError } from '../../lib/errors.ts';
import { readSecret } from '../../lib/config.ts';
import type { Secret } from '../../lib/secret.ts';
import type { SecretSource } from './types.ts';

export function secretsFromEnv(env: NodeJS.ProcessEnv): SecretSource {
  return {
    get(name: string): Secret {
      const secret = readSecret(env, name);
      if (!secret) throw new InputError(`${name}_FILE is not set: the step needs this secret (a file holding it, one line)`);
      return secret;
    },
  };
}
