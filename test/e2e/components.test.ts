import { describe, expect, it } from "@jest/globals";
import type { UsageRecord } from "../../functions/core/usage";
import type { ComponentSnapshot } from "../../infra/local/sagemaker-runtime";
import { admin, call, e2ePlatform, eventually, inferBody, newTenant } from "./helpers";

/**
 * iris-ic (e2e.config.ts) is placed on the pool `shared` as inference components: v1 keeps a
 * copy, v2 scales to zero (idle 1 s here, set by global-setup). What the emulator saw is read
 * from its component report, the way an operator would look at DescribeInferenceComponent.
 */

const POOL_ENDPOINT = "mge2e-pool-shared";
const LLM_COMPONENT = "mge2e-tinylm-ic-v1";

/** iris-ic's component of `version`, or any component by name, as the emulator reports it. */
async function stateOf(version: number | string): Promise<ComponentSnapshot> {
  const name = typeof version === "number" ? `mge2e-iris-ic-v${version}` : version;
  const res = await fetch(`${e2ePlatform().sagemakerRuntime}/_local/inference-components`);
  const { components } = (await res.json()) as { components: ComponentSnapshot[] };
  const found = components.find((c) => c.componentName === name);
  if (!found) throw new Error(`no component ${name} in ${JSON.stringify(components)}`);
  return found;
}

/** Whether a model host still listens at `url` (a closed one refuses the connection). */
const listening = (url: string) =>
  fetch(`${url}/ping`).then(
    () => true,
    () => false,
  );

const scaledToZero = (version: number | string) =>
  eventually(
    () => stateOf(version),
    (s) => s.status === "ScaledToZero",
  );

/** Every usage record of a tenant in the last minutes, through the tenant's own export. */
async function usageRecords(apiKey: string, from: string): Promise<UsageRecord[]> {
  const q = new URLSearchParams({ from, to: new Date(Date.now() + 60_000).toISOString(), limit: "100" });
  const res = await call(`/v1/usage/records?${q}`, { key: apiKey });
  expect(res.status).toBe(200);
  return res.body.records as UsageRecord[];
}

describe("inference components on the local host", () => {
  it("routes by component on the pool endpoint; a component with a minimum of one stays loaded", async () => {
    const t = await newTenant(["iris-ic"]);
    const [v1, v2] = [await stateOf(1), await stateOf(2)];
    expect(v1).toMatchObject({ endpointName: POOL_ENDPOINT, minCopies: 1, status: "InService" });
    expect(v2).toMatchObject({ endpointName: POOL_ENDPOINT, minCopies: 0 });
    for (let i = 0; i < 3; i++) {
      const res = await call("/v2/models/iris-ic/infer", { key: t.apiKey, body: inferBody() });
      expect(res.status).toBe(200);
      // The model host of v1 answered: its own name and version are in the body.
      expect(res.body).toMatchObject({ model_name: "iris-ic", model_version: "1" });
    }
    expect((await stateOf(1)).invocations).toBe(v1.invocations + 3);
    expect((await stateOf(2)).invocations).toBe(v2.invocations);

    // Well past the 1 s idle time: v1's host is the same one, still listening.
    await new Promise((r) => setTimeout(r, 1_500));
    const later = await stateOf(1);
    expect(later).toMatchObject({ currentCopies: 1, status: "InService", url: v1.url });
    expect(await listening(v1.url as string)).toBe(true);
  });

  it("unloads a scale-to-zero component when idle; the next request is 503 waking, then 200 once loaded; only 200s are billed", async () => {
    const t = await newTenant(["iris-ic"]);
    const from = new Date(Date.now() - 1_000).toISOString();
    const before = await scaledToZero(2);
    expect(before).toMatchObject({ currentCopies: 0, status: "ScaledToZero" });
    const answers: Array<{ status: number; id: string | null }> = [];
    const infer = async () => {
      const res = await call("/v2/models/iris-ic/versions/cold/infer", { key: t.apiKey, body: inferBody() });
      answers.push({ status: res.status, id: res.headers.get("x-request-id") });
      return res;
    };

    for (let round = 0; round < 2; round++) {
      const waking = await infer();
      expect(waking.status).toBe(503);
      // The local host's own Retry-After: its copies load in a second or two (the cloud says 30).
      expect(waking.headers.get("retry-after")).toBe("2");
      expect(waking.body.error).toMatchObject({ type: "model_waking", message: expect.stringMatching(/scaling up from zero/) });
      expect(waking.headers.get("x-model-version")).toBe("2");

      const served = await eventually(infer, (r) => r.status === 200);
      expect(served.status).toBe(200);
      expect(served.body).toMatchObject({ model_name: "iris-ic", model_version: "2" });
      const loaded = await stateOf(2);
      expect(loaded).toMatchObject({ currentCopies: 1, status: "InService" });
      expect(await listening(loaded.url as string)).toBe(true);

      // Idle again: the model host is closed, its port refuses connections.
      await scaledToZero(2);
      expect(await listening(loaded.url as string)).toBe(false);
    }

    const wakings = answers.filter((a) => a.status === 503);
    expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);
    // Each 503 was SageMaker's "no capacity" answer at the emulator, for this component.
    expect((await stateOf(2)).noCapacity - before.noCapacity).toBe(wakings.length);
    const billed = answers.filter((a) => a.status === 200).map((a) => a.id);
    expect(billed).toHaveLength(2);
    const records = await usageRecords(t.apiKey, from);
    expect(records.map((r) => r.requestId).sort()).toEqual([...billed].sort());
    expect(records.every((r) => r.status === 200 && r.version === 2)).toBe(true);
  });

  it("lets an alias's fallback answer while its primary component wakes", async () => {
    const t = await newTenant(["iris-ic"]);
    const current = await admin().request<{ revision: number }>("GET", "/admin/models/iris-ic/aliases/cold-fb");
    const moved = await admin().request("PUT", "/admin/models/iris-ic/aliases/cold-fb", {
      target: 2,
      fallback: 1,
      expectedRevision: current.status === 200 ? current.body.revision : 0,
    });
    expect(moved.status).toBe(200);
    await scaledToZero(2);
    const res = await eventually(
      () => call("/v2/models/iris-ic/versions/cold-fb/infer", { key: t.apiKey, body: inferBody() }),
      (r) => r.status !== 404,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-model-version")).toBe("1");
    expect(res.headers.get("x-model-fallback-from")).toBe("2");
  });

  it("answers the OpenAI routes of a waking LLM in OpenAI's error shape, streamed or not, then serves; only answers are billed", async () => {
    const t = await newTenant(["tinylm-ic"]);
    const from = new Date(Date.now() - 1_000).toISOString();
    const chat = { model: "tinylm-ic", messages: [{ role: "user", content: "Call me" }], max_tokens: 4 };
    const served: string[] = [];
    for (const body of [
      { ...chat, stream: false },
      { ...chat, stream: true },
    ]) {
      await scaledToZero(LLM_COMPONENT);
      const waking = await call("/v1/chat/completions", { key: t.apiKey, body });
      expect(waking.status).toBe(503);
      expect(waking.headers.get("retry-after")).toBe("2");
      expect(waking.body).toEqual({
        error: {
          message: expect.stringMatching(/scaling up from zero/),
          type: "api_error",
          param: null,
          code: "model_waking",
          request_id: waking.headers.get("x-request-id"),
        },
      });
      const answered = await eventually(
        () => call("/v1/chat/completions", { key: t.apiKey, body }),
        (r) => r.status === 200,
        30_000,
      );
      expect(answered.status).toBe(200);
      if (body.stream) expect(answered.text).toContain("data: [DONE]");
      else expect(answered.body.choices[0].message.content).toEqual(expect.any(String));
      served.push(answered.headers.get("x-request-id") as string);
      // The LLM model host's server is closed once idle: its port refuses connections.
      const { url } = await stateOf(LLM_COMPONENT);
      await scaledToZero(LLM_COMPONENT);
      expect(await listening(url as string)).toBe(false);
    }
    const records = await usageRecords(t.apiKey, from);
    expect(records.map((r) => r.requestId).sort()).toEqual(served.sort());
  });
});
