import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import config from "../../modelgate.config";
import { createPlatformApp, newPlatformApp } from "./platform-app";

/**
 * The CDK app (`cdk.json`). Offline and credential-free: no lookups, an environment-agnostic
 * stack unless `-c region=…` (and optionally `-c account=…`) pins it. Other context:
 * `-c webAclArn=arn:…` associates a WAF web ACL, `-c dataCapturePercent=10` turns on data
 * capture, `-c stackName=…` renames the stack; `CDK_VALIDATION=true` adds CDK's built-in
 * CloudFormation schema validation (slow).
 */
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
// `CDK_VALIDATION=true npx cdk synth` turns CDK's slow built-in template validation back on.
const app = newPlatformApp({ builtinCloudFormationValidation: process.env.CDK_VALIDATION === "true" });
const ctx = (key: string): string | undefined => {
  const v: unknown = app.node.tryGetContext(key);
  return typeof v === "string" && v.length > 0 ? v : typeof v === "number" ? String(v) : undefined;
};
const region = ctx("region");
const account = ctx("account");
const capture = ctx("dataCapturePercent");
const webAclArn = ctx("webAclArn");
const stackName = ctx("stackName");

createPlatformApp({
  app,
  config,
  baseDir: projectRoot,
  projectRoot,
  ...(region ? { env: { region, ...(account ? { account } : {}) } } : {}),
  ...(webAclArn ? { webAclArn } : {}),
  ...(capture ? { dataCapture: { samplingPercentage: Number(capture) } } : {}),
  ...(stackName ? { stackName } : {}),
});
app.synth();
