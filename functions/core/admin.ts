// Tenants, keys and aliases live in their own modules; re-exported here for existing callers.
export { aliasHistory, moveAlias, rollbackAlias } from "./aliases";
export { ALL_SCOPES, type CreatedKey, createKey, type NewKey } from "./api-keys";
export { createTenant, type NewTenant, requireTenant, TENANT_ID } from "./tenants";
