// Shapes of the trimmed schema in schema.json (written by scripts/gen-pve-schema.ts).
export interface ParamSchema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | 'null';
  optional?: number;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string | Record<string, ParamSchema>;
  default_key?: number;
  alias?: string;
  keyAlias?: string;
  requires?: string;
  items?: ParamSchema;
  indexRange?: [number, number];
}

export interface MethodSchema {
  strict: boolean;
  returns: string;
  async: boolean;
  params: Record<string, ParamSchema>;
}

export interface TrimmedSchema {
  meta: { source: string; sha256: string };
  paths: Record<string, Record<string, MethodSchema>>;
}

export type ValidationResult =
  | { ok: true; template: string; async: boolean }
  | { ok: false; status: 400 | 404 | 501; errors: Record<string, string> };
