import type { CloudFormationCustomResourceEvent } from "aws-lambda";
import type { RegistrySeed } from "../contract/seed";

/**
 * CloudFormation custom resource (behind `custom_resources.Provider`) that writes the
 * registry seed computed at synth — models, immutable versions, initial aliases — into the
 * registry table. `seedRegistry` writes versions idempotently and aliases only when absent,
 * so a redeploy never moves an alias an operator has moved since. Delete leaves the data.
 */

export interface SeedResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Readonly<Record<string, string>>;
}

/** Thrown for properties that are not a registry seed; CloudFormation shows the message. */
export class SeedPropertiesError extends Error {
  override readonly name = "SeedPropertiesError";
}

export function parseSeedProperties(props: Readonly<Record<string, unknown>>): { tableName: string; seed: RegistrySeed } {
  const tableName = props.TableName;
  if (typeof tableName !== "string" || tableName.length === 0) throw new SeedPropertiesError("TableName: required string");
  const raw = props.Seed;
  let seed: unknown;
  try {
    seed = typeof raw === "string" ? JSON.parse(raw) : raw;
  } catch (cause) {
    throw new SeedPropertiesError("Seed: not valid JSON", { cause });
  }
  if (typeof seed !== "object" || seed === null) throw new SeedPropertiesError("Seed: must be an object");
  for (const field of ["models", "versions", "aliases"] as const) {
    if (!Array.isArray((seed as Record<string, unknown>)[field])) throw new SeedPropertiesError(`Seed.${field}: must be an array`);
  }
  return { tableName, seed: seed as RegistrySeed };
}

/** Writes a seed into a registry table (`seedRegistry` on DynamoDB). */
export type SeedWriter = (tableName: string, seed: RegistrySeed) => Promise<void>;

export function createSeedHandler(writeSeed: SeedWriter): (event: CloudFormationCustomResourceEvent) => Promise<SeedResponse> {
  return async (event) => {
    if (event.RequestType === "Delete") {
      // Registry data outlives the stack's seed; the table's own removal policy decides.
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    const { tableName, seed } = parseSeedProperties(event.ResourceProperties);
    await writeSeed(tableName, seed);
    return {
      PhysicalResourceId: `registry-seed:${tableName}`,
      Data: { Models: String(seed.models.length), Versions: String(seed.versions.length), Aliases: String(seed.aliases.length) },
    };
  };
}
