import { describe, expect, it } from "@jest/globals";
import { admin, call, e2ePlatform, eventually, inferBody } from "./helpers";

describe("aliases move at run time", () => {
  it("prod moved to v2 serves v2 without a restart, and moving back restores v1", async () => {
    const before = await admin().request<{ revision: number }>("GET", "/admin/models/iris-al/aliases/prod");
    expect(before.status).toBe(200);
    const moved = await admin().request<{ revision: number }>("PUT", "/admin/models/iris-al/aliases/prod", {
      target: 2,
      expectedRevision: before.body.revision,
    });
    expect(moved.status).toBe(200);
    expect(moved.body.revision).toBe(before.body.revision + 1);
    try {
      const res = await eventually(
        () => call("/v2/models/iris-al/infer", { key: e2ePlatform().apiKey, body: inferBody() }),
        (r) => r.headers.get("x-model-version") === "2",
      );
      expect(res.headers.get("x-model-version")).toBe("2");
      expect(res.headers.get("x-model-alias")).toBe("prod");
    } finally {
      const back = await admin().request("PUT", "/admin/models/iris-al/aliases/prod", { target: 1, expectedRevision: moved.body.revision });
      expect(back.status).toBe(200);
    }
  });

  it("an update based on a stale revision is a 409, and only one of concurrent updates wins", async () => {
    const current = await admin().request<{ revision: number }>("GET", "/admin/models/iris/aliases/staging");
    const rev = current.body.revision;
    const results = await Promise.all(
      Array.from({ length: 10 }, () => admin().request("PUT", "/admin/models/iris/aliases/staging", { target: 2, expectedRevision: rev })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(9);
  });

  it("refuses targets that are not ready versions or whose weights do not sum to 100", async () => {
    const current = await admin().request<{ revision: number }>("GET", "/admin/models/iris/aliases/staging");
    expect(
      (await admin().request("PUT", "/admin/models/iris/aliases/staging", { target: 7, expectedRevision: current.body.revision })).status,
    ).toBe(400);
    const bad = [
      { version: 1, weight: 50 },
      { version: 2, weight: 20 },
    ];
    expect(
      (await admin().request("PUT", "/admin/models/iris/aliases/staging", { target: bad, expectedRevision: current.body.revision })).status,
    ).toBe(400);
    expect((await admin().request("PUT", "/admin/models/nope/aliases/prod", { target: 1, expectedRevision: 1 })).status).toBe(404);
  });

  it("a weighted alias (70/30) splits routing keys within 7 points over 300 keys and is sticky per key", async () => {
    const counts = { "1": 0, "2": 0 } as Record<string, number>;
    const first = new Map<string, string>();
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const res = await call("/v2/models/iris/versions/canary/infer", {
          key: e2ePlatform().apiKey,
          body: inferBody(),
          headers: { "x-routing-key": `user-${i}` },
        });
        const v = res.headers.get("x-model-version") ?? "?";
        counts[v] = (counts[v] ?? 0) + 1;
        first.set(`user-${i}`, v);
      }),
    );
    expect(Math.abs((counts["2"] ?? 0) / 3 - 30)).toBeLessThan(7);
    for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) {
      const again = await call("/v2/models/iris/versions/canary/infer", {
        key: e2ePlatform().apiKey,
        body: inferBody(),
        headers: { "x-routing-key": `user-${i}` },
      });
      expect(again.headers.get("x-model-version")).toBe(first.get(`user-${i}`));
    }
  });
});
