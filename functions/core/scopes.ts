/**
 * What a tenant API key may be used for. The core owns this vocabulary: keys are created with
 * these scopes, the handlers require them, the route table names them and the CLI offers them.
 */
export const KEY_SCOPES = ["invoke", "usage:read"] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

export const isKeyScope = (value: string): value is KeyScope => (KEY_SCOPES as readonly string[]).includes(value);
